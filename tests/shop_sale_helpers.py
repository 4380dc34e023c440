"""A flash sale for the shop's tests: armed on a demo product as the dashboard's Arm does.

sale_id = arm_sale(api_app, product_id)        # 3 units, opening in five minutes, 2 per shopper
"""

from datetime import UTC, datetime, timedelta

from admission import sales


def arm_sale(app, product_id: int, **settings) -> int:
    """Create and arm a sale (its units taken from the catalog); its id."""
    data = {
        "product_id": product_id,
        "units": 3,
        "opens_at": datetime.now(UTC) + timedelta(minutes=5),
        "admission_rate": 1000,
        "admitted_cap": 1000,
        "checkout_window_s": 120,
        "per_shopper_limit": 2,
        **settings,
    }
    with app.app_context():
        sale_id = sales.create_sale(data, operator_id=1).id
        sales.arm_sale(sale_id)
    return sale_id
