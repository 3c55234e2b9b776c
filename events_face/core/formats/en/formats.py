# Django's English DATETIME_FORMAT ("N j, Y, P") with the zone's abbreviation.
DATETIME_FORMAT = "N j, Y, P T"
