"""Word pools for company names, mailboxes and the people behind a record; countries are in `pools`.

The brand pool is a list of real-sounding single brands plus compounds of a prefix and a root
(`North` + `gate`), so a million customers can have a million distinct company domains that still read
like company domains.
"""

BRANDS = (
    "Northwind",
    "Blue Ridge",
    "Silver Lake",
    "Summit",
    "Pioneer",
    "Granite",
    "Evergreen",
    "Atlas",
    "Harbor",
    "Keystone",
    "Meridian",
    "Northstar",
    "Pacific",
    "Redwood",
    "Sterling",
    "Trident",
    "Vertex",
    "Crescent",
    "Horizon",
    "Ironwood",
    "Lakeshore",
    "Acme",
    "Bluebird",
    "Cobalt",
    "Falcon",
    "Juniper",
    "Maple Leaf",
    "Orion",
    "Quantum",
    "Riverbend",
    "Sequoia",
    "Tidewater",
)
INDUSTRIES = (
    "Industrial Supply",
    "Logistics",
    "Fabrication",
    "Analytics",
    "Health Partners",
    "Foods",
    "Engineering",
    "Software",
    "Pharma",
    "Textiles",
    "Construction",
    "Energy",
    "Robotics",
    "Packaging",
    "Consulting",
    "Capital",
    "Marine Services",
    "Electronics",
    "Automotive Parts",
    "Agritech",
    "Distribution",
    "Hospitality Group",
    "Medical Devices",
    "Printing & Imaging",
)
LONG_TAILS = (
    "Consolidated International Holdings for Industrial Equipment, Maintenance, Repair and Operations "
    "Supplies (North America Division)",
    "Regional Procurement and Shared Accounting Services Centre for Public Sector Healthcare "
    "Institutions and Affiliated Foundations",
    "Gesellschaft für angewandte Verfahrenstechnik, Anlagenbau und Instandhaltung mit beschränkter "
    "Haftung & Compagnie Kommanditgesellschaft",
)
ROLE_MAILBOXES = (
    "ap",
    "info",
    "accounts",
    "billing",
    "finance",
    "purchasing",
    "orders",
    "contact",
    "accounts.payable",
    "office",
    "hello",
    "procurement",
)
SHARED_EMAILS = (
    "billing@shared-services.example",
    "ap@ledgerworks-outsourcing.example",
    "accounts@northwind-group.example",
    "invoices@franchise-hq.example",
    "finance@holding-partners.example",
    "info@example.com",
)
CUSTOMER_CLASSES = ("ENTERPRISE", "MID_MARKET", "SMB", "PUBLIC_SECTOR", "PARTNER", "EDUCATION", "RESELLER")
ADDRESS_LINE2 = (
    "Suite 200",
    "Floor 3",
    "Building B",
    "c/o Accounts Payable",
    "Unit 14",
    "PO Box 1190",
    "2. OG",
    "Bâtiment C",
    "Dock 4",
)
CREATOR_MODULES = ("HZ_WS", "HZ_IMPORT", "ZCM_UI", "HZ_WS", "HZ_WS", "ORA_ZCM_BULK_IMPORT")
CREATORS = ("INTEGRATION.USER", "CONVERSION.USER", "SALES.ADMIN", "FUSION_APPS_CRM_SOA_APPID")
UPDATERS = ("INTEGRATION.USER", "SALES.ADMIN", "FUSION_APPS_CRM_SOA_APPID", "DATA.STEWARD", "MASS.UPDATE")

OWNER_FIRST = ("Jane", "Marcus", "Aiko", "Fatima", "Liam", "Sofía", "Chen", "Olga", "Kwame", "Ingrid")
OWNER_LAST = ("Seller", "Okoye", "Lindgren", "Haddad", "Brennan", "Castillo", "Wu", "Petrova")

BRAND_PREFIXES = (
    "North", "South", "East", "West", "Blue", "Silver", "Gold", "Red", "Green", "Iron", "Stone", "Oak",
    "Pine", "Cedar", "Maple", "Bright", "Clear", "Sun", "Star", "River", "Lake", "High", "Fair", "Eagle",
)  # fmt: skip
BRAND_ROOTS = (
    "wind", "ridge", "field", "brook", "stone", "gate", "wood", "well", "point", "view", "bridge", "haven",
    "crest", "line", "way", "works", "dale", "ford", "port", "side", "vale", "mark", "water", "land",
)  # fmt: skip

# Romanised slugs for names `ascii_slug` folds to nothing (kanji and kana).
ROMAJI = {
    "田中": "tanaka",
    "佐藤": "sato",
    "鈴木": "suzuki",
    "高橋": "takahashi",
    "山田": "yamada",
    "さくら": "sakura",
}

# The registered name a company adds to its own when the plain one is taken, in the order they go.
DOMAIN_QUALIFIERS = (
    "co", "inc", "corp", "online", "direct", "global", "intl", "hq", "services", "solutions", "worldwide",
)  # fmt: skip

# Each country's companies register under their own zone (all below the reserved `.example`).
DOMAIN_ZONES = {
    "US": "example",
    "GB": "co.uk.example",
    "DE": "de.example",
    "FR": "fr.example",
    "CA": "ca.example",
    "JP": "co.jp.example",
    "BR": "com.br.example",
    "ES": "es.example",
    "NL": "nl.example",
    "SE": "se.example",
    "IN": "co.in.example",
}
