from django.contrib import admin
from rest_framework_simplejwt.token_blacklist.admin import OutstandingTokenAdmin
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken


class ViewOnlyOutstandingTokenAdmin(OutstandingTokenAdmin):
    """SimpleJWT's page offers "Save" and refuses it (403): issued tokens are only shown."""

    def has_change_permission(self, request, obj=None) -> bool:
        return False


admin.site.unregister(OutstandingToken)
admin.site.register(OutstandingToken, ViewOnlyOutstandingTokenAdmin)
