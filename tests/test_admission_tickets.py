"""Tickets: signed, bound to shopper and sale, expiring, single-use; every forgery refused distinctly."""

import pytest
from admission_helpers import T0

from admission import stock
from admission.exceptions import NotYourTicket, TicketExpired, TicketInvalid, TicketUsed, TicketWrongSale
from admission.tickets import Ticket, read_ticket, sign_ticket, verify_ticket


@pytest.fixture
def admitted(sales_ops):
    sale = sales_ops.opened(units=5, rate=10, window=60)
    sales_ops.admit_all(sale, 7)
    return sale, sales_ops.status(sale, 7, T0 + 1).ticket


def test_a_good_ticket_is_accepted(admitted):
    sale, token = admitted
    ticket = verify_ticket(token, 7, sale, T0 + 2)
    assert (ticket.sale_id, ticket.shopper_id, ticket.expires_at) == (sale, 7, T0 + 61)


def _forged(sale, token):
    return token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB"), 7, sale, T0 + 2


def _other_shopper(sale, token):
    return token, 8, sale, T0 + 2


def _other_sale(sale, token):
    return token, 7, sale + 1, T0 + 2


def _expired(sale, token):
    return token, 7, sale, T0 + 62


def _replayed(sale, token):
    stock.reserve(sale, read_ticket(token).id, 1, T0 + 2)
    return token, 7, sale, T0 + 3


def _signed_with_another_key(sale, token):
    from itsdangerous import URLSafeSerializer

    ticket = read_ticket(token)
    payload = {"t": ticket.id, "s": ticket.sale_id, "p": ticket.shopper_id, "e": ticket.expires_at}
    return URLSafeSerializer("not-our-key", salt="yakku.admission.ticket").dumps(payload), 7, sale, T0 + 2


def _never_issued(sale, token):
    return sign_ticket(Ticket(f"{sale}-999", sale, 7, T0 + 60)), 7, sale, T0 + 2


@pytest.mark.parametrize(
    ("tamper", "error"),
    [
        (_forged, TicketInvalid),
        (_signed_with_another_key, TicketInvalid),
        (_never_issued, TicketInvalid),
        (_other_shopper, NotYourTicket),
        (_other_sale, TicketWrongSale),
        (_expired, TicketExpired),
        (_replayed, TicketUsed),
    ],
)
def test_ticket_guards(admitted, tamper, error):
    sale, token = admitted
    with pytest.raises(error):
        verify_ticket(*tamper(sale, token))


def test_a_ticket_expired_by_the_admitter_is_refused_even_before_its_time(admitted, sales_ops):
    sale, token = admitted
    stock.release(sale, read_ticket(token).id, stock.TicketState.EXPIRED)
    with pytest.raises(TicketExpired):
        verify_ticket(token, 7, sale, T0 + 2)
