"""What the sale's API takes and answers."""

from apiflask import Schema
from apiflask.fields import AwareDateTime, Boolean, Dict, Float, Integer, List, Nested, String
from apiflask.validators import Length, Range

from admission.models import DECLINE_GRACE_S
from admission.states import SaleState, WaiterState
from api.common import UTCDateTime

# Every time the sale's API takes carries its offset: a bare "05:14" names no instant.
OFFSET_REQUIRED = {"description": "ISO 8601 with its offset, e.g. 2026-12-01T05:14:00+09:00"}


class SaleIn(Schema):
    name = String(load_default="", validate=Length(max=200))
    product_id = Integer(required=True, validate=Range(min=1, max=2**31 - 1))
    units = Integer(required=True, validate=Range(min=1, max=10_000_000))
    opens_at = AwareDateTime(required=True, metadata=OFFSET_REQUIRED)
    admission_rate = Float(required=True, validate=Range(min=0.001, max=100_000))
    admitted_cap = Integer(required=True, validate=Range(min=1, max=1_000_000))
    checkout_window_s = Integer(load_default=300, validate=Range(min=10, max=86_400))
    per_shopper_limit = Integer(load_default=1, validate=Range(min=1, max=1000))
    decline_grace_s = Integer(load_default=DECLINE_GRACE_S, validate=Range(min=5, max=3600))


class SaleChange(Schema):
    name = String(validate=Length(max=200))
    product_id = Integer(validate=Range(min=1, max=2**31 - 1))
    units = Integer(validate=Range(min=1, max=10_000_000))
    opens_at = AwareDateTime(metadata=OFFSET_REQUIRED)
    admission_rate = Float(validate=Range(min=0.001, max=100_000))
    admitted_cap = Integer(validate=Range(min=1, max=1_000_000))
    checkout_window_s = Integer(validate=Range(min=10, max=86_400))
    per_shopper_limit = Integer(validate=Range(min=1, max=1000))
    decline_grace_s = Integer(validate=Range(min=5, max=3600))


class SaleOut(Schema):
    id = Integer()
    name = String()
    product_id = Integer()
    units = Integer()
    opens_at = UTCDateTime()
    admission_rate = Float()
    admitted_cap = Integer()
    checkout_window_s = Integer()
    per_shopper_limit = Integer()
    decline_grace_s = Integer()
    state = String(metadata={"enum": [state.value for state in SaleState]})
    created_by = Integer(allow_none=True)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class SaleDetailOut(SaleOut):
    figures = Dict()
    draw = Dict(metadata={"description": "commitment; seed and entry count once the sale has opened"})


class DrawOut(Schema):
    sale_id = Integer()
    commitment = String(allow_none=True, metadata={"description": "SHA-256 of the seed, published at arming"})
    salt = String(allow_none=True, metadata={"description": "your entry is SHA-256(salt:your shopper id)"})
    seed = String(allow_none=True, metadata={"description": "published at opening"})
    entries = List(String(), allow_none=True, metadata={"description": "entry hashes in draw order"})
    committed_at = UTCDateTime(allow_none=True)
    drawn_at = UTCDateTime(allow_none=True)


class SaleListOut(Schema):
    items = List(Nested(SaleOut))


class SettleOut(Schema):
    settled = Boolean()
    reason = String()
    units = Integer()
    returned = Integer()


class SaleEndOut(Schema):
    ended = Boolean()
    state = String(allow_none=True, metadata={"enum": ["sold_out", "closed"]})
    check_again_seconds = Float()


class WaiterStatusOut(Schema):
    sale_id = Integer()
    state = String(metadata={"enum": [state.value for state in WaiterState]})
    sale_state = String()
    position = Integer(allow_none=True)
    people_ahead = Integer(allow_none=True)
    eta_seconds = Integer(allow_none=True)
    rate = Float(allow_none=True)
    rate_measured = Boolean()
    poll_after_seconds = Integer(allow_none=True)
    opens_in_seconds = Integer(allow_none=True)
    ticket = String(allow_none=True)
    ticket_expires_at = Float(allow_none=True)
    standby_number = Integer(allow_none=True, metadata={"description": "On standby: your number among them."})
    units_left = Integer(allow_none=True, metadata={"description": "On standby: units not reserved yet."})
    in_play = Integer(
        allow_none=True, metadata={"description": "On standby: tickets whose units may come back."}
    )
    chance = Float(
        allow_none=True,
        metadata={
            "description": "On standby: the measured chance a unit reaches you (null: not measured yet)."
        },
    )
