from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "events_face.accounts"
    label = "accounts"
