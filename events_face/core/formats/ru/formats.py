# Django's Russian DATETIME_FORMAT ("j E Y г. G:i") with the zone's abbreviation.
DATETIME_FORMAT = "j E Y г. G:i T"
