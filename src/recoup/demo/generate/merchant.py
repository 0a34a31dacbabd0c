"""The demo merchant: its warehouses and destinations, its carriers (accounts, services, code tables,
hubs, surcharges) and the tariffs and boxes it ships with."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Place:
    postal: str
    city: str
    country: str
    tz: str
    zone: str            # the carrier zone from the merchant's warehouse (US zones 2-8; UK regions)
    weight: int = 10     # how often the merchant ships there


US_ORIGIN = Place("60607", "CHICAGO", "US", "America/Chicago", "")
UK_ORIGIN = Place("NN4 7YB", "NORTHAMPTON", "GB", "Europe/London", "")

US_PLACES = (
    Place("10001", "NEW YORK", "US", "America/New_York", "5", 30), Place("10035", "NEW YORK", "US", "America/New_York", "5", 10),
    Place("11201", "BROOKLYN", "US", "America/New_York", "5", 14), Place("02110-3728", "BOSTON", "US", "America/New_York", "5", 8),
    Place("02111", "BOSTON", "US", "America/New_York", "5", 6), Place("02146", "BROOKLINE", "US", "America/New_York", "5", 5),
    Place("19103", "PHILADELPHIA", "US", "America/New_York", "5", 10), Place("20001", "WASHINGTON", "US", "America/New_York", "5", 10),
    Place("28202", "CHARLOTTE", "US", "America/New_York", "5", 7), Place("30309", "ATLANTA", "US", "America/New_York", "5", 9),
    Place("30322", "ATLANTA", "US", "America/New_York", "5", 5), Place("33139", "MIAMI BEACH", "US", "America/New_York", "6", 6),
    Place("32801", "ORLANDO", "US", "America/New_York", "6", 7), Place("43215", "COLUMBUS", "US", "America/New_York", "3", 7),
    Place("48201", "DETROIT", "US", "America/Detroit", "3", 7), Place("46204", "INDIANAPOLIS", "US", "America/Indiana/Indianapolis", "2", 6),
    Place("60613", "CHICAGO", "US", "America/Chicago", "2", 10), Place("60614", "CHICAGO", "US", "America/Chicago", "2", 14),
    Place("53202", "MILWAUKEE", "US", "America/Chicago", "2", 7), Place("55415", "MINNEAPOLIS", "US", "America/Chicago", "3", 7),
    Place("63101", "SAINT LOUIS", "US", "America/Chicago", "3", 6), Place("37203", "NASHVILLE", "US", "America/Chicago", "4", 7),
    Place("70112", "NEW ORLEANS", "US", "America/Chicago", "6", 5), Place("75201", "DALLAS", "US", "America/Chicago", "5", 10),
    Place("75232", "DALLAS", "US", "America/Chicago", "5", 5), Place("77012", "HOUSTON", "US", "America/Chicago", "6", 7),
    Place("78701", "AUSTIN", "US", "America/Chicago", "6", 8), Place("80202", "DENVER", "US", "America/Denver", "5", 8),
    Place("80222", "DENVER", "US", "America/Denver", "5", 5), Place("84110", "SALT LAKE CITY", "US", "America/Denver", "6", 5),
    Place("87111", "ALBUQUERQUE", "US", "America/Denver", "6", 4), Place("85004", "PHOENIX", "US", "America/Phoenix", "7", 8),
    Place("85251", "SCOTTSDALE", "US", "America/Phoenix", "7", 5), Place("89109", "LAS VEGAS", "US", "America/Los_Angeles", "7", 6),
    Place("90039", "LOS ANGELES", "US", "America/Los_Angeles", "8", 8), Place("90041", "LOS ANGELES", "US", "America/Los_Angeles", "8", 8),
    Place("92101", "SAN DIEGO", "US", "America/Los_Angeles", "8", 7), Place("94103", "SAN FRANCISCO", "US", "America/Los_Angeles", "8", 10),
    Place("94113", "SAN FRANCISCO", "US", "America/Los_Angeles", "8", 4), Place("97201", "PORTLAND", "US", "America/Los_Angeles", "8", 6),
    Place("98101", "SEATTLE", "US", "America/Los_Angeles", "8", 9), Place("98121", "SEATTLE", "US", "America/Los_Angeles", "8", 5),
)

UK_PLACES = (
    Place("EC1A 1BB", "LONDON", "GB", "Europe/London", "MAINLAND", 30), Place("SW1A 2AA", "LONDON", "GB", "Europe/London", "MAINLAND", 15),
    Place("E14 5AB", "LONDON", "GB", "Europe/London", "MAINLAND", 15), Place("M1 1AE", "MANCHESTER", "GB", "Europe/London", "MAINLAND", 15),
    Place("B33 8TH", "BIRMINGHAM", "GB", "Europe/London", "MAINLAND", 12), Place("LS1 4AP", "LEEDS", "GB", "Europe/London", "MAINLAND", 10),
    Place("BS1 4DJ", "BRISTOL", "GB", "Europe/London", "MAINLAND", 10), Place("CF10 1EP", "CARDIFF", "GB", "Europe/London", "MAINLAND", 7),
    Place("NE1 4ST", "NEWCASTLE UPON TYNE", "GB", "Europe/London", "MAINLAND", 7), Place("NG1 5FS", "NOTTINGHAM", "GB", "Europe/London", "MAINLAND", 7),
    Place("EH1 1YZ", "EDINBURGH", "GB", "Europe/London", "MAINLAND", 9), Place("G1 1XQ", "GLASGOW", "GB", "Europe/London", "MAINLAND", 9),
    Place("AB10 1XG", "ABERDEEN", "GB", "Europe/London", "MAINLAND", 4), Place("PH1 5RT", "PERTH", "GB", "Europe/London", "MAINLAND", 3),
    Place("PA1 1JH", "PAISLEY", "GB", "Europe/London", "MAINLAND", 3), Place("PO1 2AL", "PORTSMOUTH", "GB", "Europe/London", "MAINLAND", 5),
    Place("TR1 2HE", "TRURO", "GB", "Europe/London", "MAINLAND", 4), Place("IV1 1HY", "INVERNESS", "GB", "Europe/London", "HIGHLANDS", 4),
    Place("IV63 6TU", "DRUMNADROCHIT", "GB", "Europe/London", "HIGHLANDS", 1), Place("PH33 6SY", "FORT WILLIAM", "GB", "Europe/London", "HIGHLANDS", 2),
    Place("KW15 1DH", "KIRKWALL", "GB", "Europe/London", "ISLANDS", 1), Place("HS1 2XA", "STORNOWAY", "GB", "Europe/London", "ISLANDS", 1),
    Place("ZE1 0AA", "LERWICK", "GB", "Europe/London", "ISLANDS", 1), Place("PA20 0AA", "ROTHESAY", "GB", "Europe/London", "ISLANDS", 1),
    Place("PO30 1UD", "NEWPORT", "GB", "Europe/London", "ISLANDS", 2), Place("TR21 0LL", "ST MARYS", "GB", "Europe/London", "ISLANDS", 1),
)

# What a carrier says at each step: (its own status code, its text).
UPS_CODES = {
    "label": ("MP", "Shipper created a label, UPS has not received the package yet."),
    "pickup": ("OR", "Pickup Scan"), "depart": ("DP", "Departed from Facility"),
    "arrive": ("AR", "Arrived at Facility"), "transit": ("IT", "On the Way"),
    "dest": ("AR", "Arrived at Facility"), "ofd": ("OT", "Out For Delivery Today"), "delivered": ("KB", "Delivered"),
    "attempted": ("48", "The receiver was not available for delivery. We'll make a second attempt the next business day."),
    "weather": ("X", "Severe weather conditions have delayed delivery."),
    "address": ("X", "The address is incorrect. We're attempting to obtain a new delivery address."),
    "carrier": ("X", "A mechanical failure has caused a delay. We will update the delivery date as soon as possible."),
    "damaged": ("X", "The package was damaged. The contents are being evaluated."),
    "damage_exception": ("X", "The package was damaged in transit and delivered."),
    "lost": ("X", "The package cannot be located. An investigation has been opened."),
    "refused": ("X", "The receiver refused the delivery."), "returned": ("RS", "Returned to Sender"),
    "pickup_shop": ("ZP", "Delivered to UPS Access Point"),
}
FEDEX_CODES = {
    "label": ("OC", "Shipment information sent to FedEx"), "pickup": ("PU", "Picked up"),
    "depart": ("DP", "Left FedEx origin facility"), "arrive": ("AR", "Arrived at FedEx hub"),
    "transit": ("IT", "In transit"), "dest": ("AR", "At local FedEx facility"),
    "ofd": ("OD", "On FedEx vehicle for delivery"), "delivered": ("DL", "Delivered"),
    "attempted": ("DE", "Customer not available or business closed"), "weather": ("SE", "Weather delay"),
    "address": ("DE", "Incorrect address"), "carrier": ("SE", "Package delayed: missed connection at hub"),
    "damaged": ("SE", "Package damaged"), "damage_exception": ("DE", "Delivered damaged"),
    "lost": ("SE", "Package not located; investigation opened"),
    "refused": ("DE", "Refused by recipient"), "returned": ("RS", "Return to shipper"),
    "pickup_shop": ("HP", "Ready for recipient pickup"),
}
DPD_CODES = {
    "label": ("CREATED", "Your order has been created and is awaiting collection"),
    "pickup": ("COLLECTED", "We have collected your parcel"), "depart": ("DEPARTED", "Your parcel has left our depot"),
    "arrive": ("HUB", "Your parcel is at the DPD hub"), "transit": ("TRANSIT", "Your parcel is on its way"),
    "dest": ("DEPOT", "Your parcel is at your local DPD depot"), "ofd": ("OFD", "Your parcel is out for delivery"),
    "delivered": ("DELIVERED", "Your parcel has been delivered"),
    "attempted": ("CARD", "We were unable to deliver your parcel and left a card"),
    "weather": ("DELAY_WEATHER", "Your parcel is delayed due to adverse weather"),
    "address": ("ADDRESS", "We need more address details to deliver your parcel"),
    "carrier": ("DELAY", "Your parcel missed its planned trunk; delivery is delayed"),
    "damaged": ("DAMAGED", "Your parcel was damaged in our network"),
    "damage_exception": ("DAMAGED_DEL", "Your parcel was delivered damaged"),
    "lost": ("NOT_LOCATED", "We cannot locate your parcel; an investigation has been opened"),
    "refused": ("REFUSED", "The recipient refused the parcel"), "returned": ("RTS", "Your parcel is being returned to the sender"),
    "pickup_shop": ("PICKUP_SHOP", "Your parcel has been delivered to a DPD Pickup Shop"),
    "collected": ("PICKUP_SHOP_COLLECTED", "Your parcel has been collected from the Pickup Shop"),
}
RM_CODES = {
    "label": ("EVPPA", "Sender preparing item"), "pickup": ("EVNMI", "We've received your item"),
    "depart": ("EVNRT", "Item in transit"), "arrive": ("EVIMC", "Item received at mail centre"),
    "transit": ("EVNRT", "Item in transit"), "dest": ("EVDAC", "Item at delivery office"),
    "ofd": ("EVGPD", "Item out for delivery"), "delivered": ("EVKSP", "Delivered and signed for"),
    "attempted": ("EVKNR", "We tried to deliver your item; a card was left"),
    "weather": ("EVDLW", "Delayed: adverse weather"), "address": ("EVNAD", "Address incomplete"),
    "carrier": ("EVDLY", "Delayed in our network"), "damaged": ("EVDAM", "Item damaged"),
    "damage_exception": ("EVDMD", "Item delivered damaged"), "lost": ("EVLST", "Item not located"),
    "refused": ("EVREF", "Refused by addressee"), "returned": ("EVRTS", "Returned to sender"),
    "pickup_shop": ("EVKLC", "Available for collection at delivery office"),
    "collected": ("EVKOC", "Collected from delivery office"),
}


@dataclass(frozen=True)
class Hub:
    city: str
    postal: str
    tz: str


@dataclass(frozen=True)
class Profile:
    code: str
    share: int                                   # per mille of the merchant's shipments
    origin: Place
    places: tuple[Place, ...]
    account: str
    services: tuple[tuple[str, int], ...]        # service code, weight
    invoice_weekday: int                         # Monday = 0
    codes: dict[str, tuple[str, str]]
    air_hub: Hub
    ground_hub: Hub
    pickup_shops: bool = False
    residential_cents: tuple[int, int] = (0, 0)  # (air / express, ground)
    das_cents: dict[str, int] = field(default_factory=dict)
    address_correction_cents: int = 0
    declared_per_100_cents: int = 0
    descriptions: dict[str, str] = field(default_factory=dict)


PROFILES = (
    Profile("ups", 400, US_ORIGIN, US_PLACES, "E6D528", (("NDA", 18), ("2DA", 24), ("GND", 58)), 5, UPS_CODES,
            Hub("LOUISVILLE", "40209", "America/Kentucky/Louisville"), Hub("HODGKINS", "60525", "America/Chicago"),
            residential_cents=(660, 610), das_cents={"resi": 470, "comm": 305}, address_correction_cents=2480,
            declared_per_100_cents=135,
            descriptions={"fuel": "Fuel Surcharge", "residential": "Residential Surcharge",
                          "delivery_area": "Delivery Area Surcharge", "address_correction": "Address Correction",
                          "declared_value": "Declared Value"}),
    Profile("fedex", 250, US_ORIGIN, US_PLACES, "512847301",
            (("PRIORITY_OVERNIGHT", 20), ("FEDEX_2_DAY", 25), ("FEDEX_GROUND", 55)), 1, FEDEX_CODES,
            Hub("MEMPHIS", "38118", "America/Chicago"), Hub("NORTHLAKE", "60164", "America/Chicago"),
            residential_cents=(620, 575), das_cents={"resi": 455, "comm": 300}, address_correction_cents=2460,
            declared_per_100_cents=140,
            descriptions={"fuel": "Fuel Surcharge", "residential": "Residential Delivery Charge",
                          "delivery_area": "Delivery Area Surcharge", "address_correction": "Address Correction",
                          "declared_value": "Declared Value Charge"}),
    Profile("dpd_uk", 200, UK_ORIGIN, UK_PLACES, "2201784", (("NEXT_DAY", 60), ("PRE_12", 25), ("PRE_1030", 15)), 4,
            DPD_CODES, Hub("HINCKLEY", "LE10 3BQ", "Europe/London"), Hub("HINCKLEY", "LE10 3BQ", "Europe/London"),
            pickup_shops=True, das_cents={"MAINLAND": 750, "HIGHLANDS": 995, "ISLANDS": 1450},
            descriptions={"fuel": "Fuel Surcharge", "delivery_area": "Highlands & Islands Surcharge"}),
    Profile("royal_mail", 150, UK_ORIGIN, UK_PLACES, "0391247865", (("SD1", 20), ("TPN", 50), ("TPS", 30)), 0,
            RM_CODES, Hub("NATIONAL DISTRIBUTION CENTRE", "NN5 7ZZ", "Europe/London"),
            Hub("NORTHAMPTON MAIL CENTRE", "NN5 7ZZ", "Europe/London"), pickup_shops=True),
)

# Royal Mail bills its tariff: (weight upper bound in kg, cents) per service.
RM_TARIFF = {
    "SD1": ((Decimal("0.1"), 895), (Decimal("0.5"), 995), (Decimal(1), 1195), (Decimal(2), 1595), (Decimal(10), 2495),
            (Decimal(20), 3495), (Decimal(30), 4495)),
    "TPN": ((Decimal(2), 449), (Decimal(10), 795), (Decimal(20), 1195), (Decimal(30), 1795)),
    "TPS": ((Decimal(2), 349), (Decimal(10), 695), (Decimal(20), 995), (Decimal(30), 1495)),
}

US_BOXES = ((Decimal(10), Decimal(8), Decimal(4), 10, 40), (Decimal(14), Decimal(12), Decimal(8), 30, 120),
            (Decimal(20), Decimal(16), Decimal(12), 80, 300), (Decimal(18), Decimal(14), Decimal(3), 10, 30),
            (Decimal(28), Decimal(20), Decimal(18), 150, 450))   # length, width, height (in), weight 1/10 lb range
UK_BOXES = ((Decimal(25), Decimal(20), Decimal(10), 50, 200), (Decimal(35), Decimal(30), Decimal(20), 200, 800),
            (Decimal(50), Decimal(40), Decimal(30), 500, 1500), (Decimal(80), Decimal(20), Decimal(20), 300, 1000))
            # (cm), weight 1/100 kg range
