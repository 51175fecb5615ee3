"""Pieces shared by the API's serializers."""

from __future__ import annotations

from rest_framework import serializers

from genesys.fields import MARGIN_DIGITS, MARGIN_PLACES, MONEY_DIGITS, MONEY_PLACES


def money(**kwargs) -> serializers.DecimalField:
    """Money as an exact decimal string ("12.3000"), never a float."""
    return serializers.DecimalField(
        max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, read_only=True, **kwargs
    )


def margin(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=MARGIN_DIGITS, decimal_places=MARGIN_PLACES, read_only=True, **kwargs
    )


class NamedRefSerializer(serializers.Serializer):
    """A related record as ``{id, name}``."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class ErrorSerializer(serializers.Serializer):
    """A refusal (api/exceptions.py): ``detail`` says why, ``code`` what kind of refusal it is;
    for invalid input ``field`` names the (first) field at fault and ``errors`` lists them all."""

    # Not read-only: the schema then marks only the first two as always present.
    detail = serializers.CharField()
    code = serializers.CharField()
    field = serializers.CharField(allow_null=True, required=False)

    def get_fields(self) -> dict[str, serializers.Field]:
        # "errors" is declared here, not as a class attribute, where it would name the same thing
        # as Serializer.errors (DRF's metaclass moves declared fields off the class, so that
        # works at run time, but the class is then not the Serializer its type says it is).
        return {**super().get_fields(), "errors": serializers.JSONField(required=False)}
