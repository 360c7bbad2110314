"""Checks a record must pass to be loaded; a failing record goes to raw.rejects with the reason.

Each returns a reason in plain words, or None when the value is fine. Missing optional values are
fine; a value that is there must make sense.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# ISO 4217 codes in use (2025).
_CURRENCY_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL
    GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW
    KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN
    NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK
    SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU
    UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG"""
CURRENCIES = frozenset(_CURRENCY_CODES.split())


def day(value: Any, field: str) -> str | None:
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return f"{field} is not a date: {value!r}"
    return None


def instant(value: Any, field: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return f"{field} is not a timestamp: {value!r}"
    return None


def amount(value: Any, field: str) -> str | None:
    """A non-negative decimal number (strings as the APIs send them, or JSON numbers)."""
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return f"{field} is not a number: {value!r}"
    if not number.is_finite():
        return f"{field} is not a number: {value!r}"
    if number < 0:
        return f"{field} is negative: {value!r}"
    return None


def count(value: Any, field: str) -> str | None:
    if value in (None, ""):
        return None
    if not re.fullmatch(r"\d+", str(value)):
        return f"{field} is not a whole number: {value!r}"
    return None


def epoch_seconds(value: Any, field: str) -> str | None:
    return None if re.fullmatch(r"\d+", str(value)) else f"{field} is not a Unix time: {value!r}"


def email(value: Any, field: str = "email") -> str | None:
    if value in (None, ""):
        return None
    return None if EMAIL.match(str(value)) else f"{field} is not an email address: {value!r}"


def currency(value: Any, field: str) -> str | None:
    if value in (None, ""):
        return None
    return None if str(value) in CURRENCIES else f"{field} is not a known currency: {value!r}"


def first_problem(*problems: str | None) -> str | None:
    return next((problem for problem in problems if problem), None)
