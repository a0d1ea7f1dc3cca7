"""Phone numbers in one form: E.164, validated with phonenumbers."""

from __future__ import annotations

import phonenumbers


class PhoneInvalidError(ValueError):
    pass


def phone_normalize(raw: str, *, default_region: str | None = None) -> str:
    """``raw`` as E.164 (``+442079460958``); "" stays "".

    Without ``default_region`` the number must be international (start with ``+``).
    Raises PhoneInvalidError for anything phonenumbers does not call a valid number.
    """
    text = raw.strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as error:
        raise PhoneInvalidError(str(error)) from error
    if not phonenumbers.is_valid_number(number):
        raise PhoneInvalidError("Not a valid phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
