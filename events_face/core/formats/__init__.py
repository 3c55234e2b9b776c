"""Date formats on top of Django's for each language (FORMAT_MODULE_PATH): the admin shows a time
with its zone ("UTC"), since the server's TIME_ZONE is not the reader's."""
