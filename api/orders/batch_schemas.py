"""What the drain's two batch calls read and answer, as pydantic models.

Every other endpoint reads and answers through marshmallow schemas (schemas.py). These two carry a
drain batch, hundreds of orders a call, and loading and dumping them through marshmallow was a tenth
of the api's CPU per paid checkout (docs/performance.md); pydantic validates the same rules in
compiled code, and APIFlask serves and documents both kinds. The limits are schemas.py's own.
"""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from api.orders.schemas import (
    EACH_PRODUCT_ONCE,
    KEY_PATTERN,
    MAX_BATCH,
    MAX_ID,
    MAX_ITEMS,
    MAX_KEY,
    MAX_QUANTITY,
)
from api.payments.cards import MAX_TOKEN, TOKEN_PATTERN

Id = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
Key = Annotated[str, StringConstraints(min_length=1, max_length=MAX_KEY, pattern=KEY_PATTERN)]
Token = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TOKEN, pattern=TOKEN_PATTERN)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")  # as marshmallow's schemas: an unknown field is refused


class BatchItemIn(_In):
    product_id: Id
    quantity: Annotated[int, Field(strict=True, ge=1, le=MAX_QUANTITY)]


class BatchSaleOrderIn(_In):
    account_id: Id
    idempotency_key: Key = Field(description="The sale ticket.")
    items: Annotated[list[BatchItemIn], Field(min_length=1, max_length=MAX_ITEMS)]

    @model_validator(mode="after")
    def _each_product_once(self):
        ids = [item.product_id for item in self.items]
        if len(ids) != len(set(ids)):
            raise PydanticCustomError("each_product_once", EACH_PRODUCT_ONCE)
        return self


class SaleOrderBatchIn(_In):
    sale_id: Id
    units: Id = Field(description="The sale's units: the first batch records them as the sale's bound.")
    orders: Annotated[list[BatchSaleOrderIn], Field(min_length=1, max_length=MAX_BATCH)]


class BatchPayIn(_In):
    order_id: Id
    idempotency_key: Key = Field(description="One per attempt.")
    payment_method: Token = Field(description="The shopper's token.")


class PayBatchIn(_In):
    payments: Annotated[list[BatchPayIn], Field(min_length=1, max_length=MAX_BATCH)]


class SaleOrderBrief(BaseModel):
    """An order without its lines and transitions: what the drain reads from a batch."""

    id: int
    account_id: int
    state: str
    total: int = Field(description="Minor units of `currency`.")
    currency: str
    sale_id: int | None


class OrderList(BaseModel):
    items: list[SaleOrderBrief]


class PayErrorOut(BaseModel):
    code: str
    message: str
    fields: dict


class PayResultOut(BaseModel):
    order_id: int
    order: SaleOrderBrief | None
    error: PayErrorOut | None


class PayBatchOut(BaseModel):
    items: list[PayResultOut]
