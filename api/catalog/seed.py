"""Demo products for a fresh shop, with local placeholder images from static/img/."""

from sqlalchemy import func, select

from api.catalog.models import Product
from api.catalog.services import create_product
from yakku.extensions import db

# (slug, name, description, price in KRW, stock)
DEMO_PRODUCTS = (
    (
        "jeju-green-tea",
        "Jeju Green Tea, 50 g",
        "First-flush loose-leaf green tea from Jeju Island: grassy, sweet, low in bitterness.",
        18_000,
        120,
    ),
    (
        "celadon-mug",
        "Hand-thrown Celadon Mug",
        "A 350 ml stoneware mug in a pale jade celadon glaze, made by a potter in Icheon.",
        32_000,
        40,
    ),
    (
        "linen-apron",
        "Linen Work Apron",
        "Stonewashed linen apron with a deep front pocket and cross-back straps. One size.",
        29_000,
        60,
    ),
    (
        "wireless-earbuds",
        "Wireless Earbuds",
        "Bluetooth 5.3 earbuds with active noise cancelling and 24 hours of battery with the case.",
        89_000,
        75,
    ),
    (
        "mechanical-keyboard",
        "Mechanical Keyboard, 87 keys",
        "Tenkeyless keyboard with hot-swappable tactile switches and a Hangul/English PBT keycap set.",
        139_000,
        25,
    ),
    (
        "canvas-tote",
        "Canvas Tote Bag",
        "Heavy 12 oz cotton canvas tote with an inside pocket; holds a laptop and the day's groceries.",
        19_000,
        200,
    ),
    (
        "steel-tumbler",
        "Stainless Tumbler, 500 ml",
        "Double-walled tumbler that keeps coffee hot for 6 hours and iced tea cold for 12.",
        25_000,
        90,
    ),
    (
        "yuzu-tea",
        "Yuzu Honey Tea, 1 kg",
        "Goheung yuzu preserved in honey. Stir two spoonfuls into hot water.",
        15_900,
        150,
    ),
    (
        "running-sneakers",
        "Everyday Running Sneakers",
        "Light mesh running shoes with a cushioned sole for 5 to 10 km a day.",
        119_000,
        30,
    ),
    (
        "desk-lamp",
        "Adjustable Desk Lamp",
        "LED desk lamp with a warm-to-cool colour dial and a weighted steel base.",
        49_000,
        45,
    ),
    (
        "dotted-notebook",
        "A5 Dotted Notebook",
        "192 pages of 100 g/m² paper that takes fountain pen ink without bleeding; lies flat.",
        8_900,
        300,
    ),
    (
        "limited-hoodie",
        "Limited Edition Hoodie",
        "Heavyweight brushed-fleece hoodie in coral, numbered run of 500. Sold in the launch flash sale.",
        69_000,
        500,
    ),
)


def seed_demo_catalog() -> int:
    """Create the demo products unless the catalog already has products; how many were made."""
    if db.session.scalar(select(func.count()).select_from(Product)):
        return 0
    for slug, name, description, price, stock in DEMO_PRODUCTS:
        create_product(
            {
                "name": name,
                "description": description,
                "price": price,
                "stock": stock,
                "image_url": f"/static/img/{slug}.svg",
            }
        )
    return len(DEMO_PRODUCTS)
