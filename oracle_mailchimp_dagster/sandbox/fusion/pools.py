"""Word pools for the customer generator: countries, places, streets, company and person names.

Deliberately international: umlauts, accents, kana and kanji turn up in names and addresses, as they do
in a real customer master.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Place:
    """A city with its region fields, a postal-code pattern (`#` digit, `@` letter) and a phone area."""

    city: str
    state: str | None
    province: str | None
    county: str | None
    postal: str
    area: str


@dataclass(frozen=True)
class CountryProfile:
    code: str
    currency: str
    phone_code: str
    weight: int
    suffixes: tuple[str, ...]
    streets: tuple[str, ...]
    places: tuple[Place, ...]
    number_first: bool
    surnames: tuple[str, ...]
    first_names: tuple[str, ...]


_US_SURNAMES = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "O'Brien",
    "Nguyen",
    "Patel",
    "Kowalski",
    "Anderson",
    "Thompson",
    "Reyes",
    "Okafor",
    "Sullivan",
    "Kim",
)
_US_FIRST = (
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "Michael",
    "Jennifer",
    "David",
    "Linda",
    "Wei",
    "Priya",
    "José",
    "Zoë",
    "Aaliyah",
    "DeShawn",
    "Connor",
    "Mei",
    "Olu",
    "Renée",
)

COUNTRIES: tuple[CountryProfile, ...] = (
    CountryProfile(
        "US",
        "USD",
        "1",
        46,
        ("Inc.", "LLC", "Corp.", "Co.", "Incorporated", "Holdings, Inc."),
        (
            "Oracle Parkway",
            "Main Street",
            "Market Street",
            "Commerce Drive",
            "Industrial Blvd",
            "Elm Street",
            "Peachtree Road NE",
            "Michigan Avenue",
            "Broadway",
            "Harbor Way",
        ),
        (
            Place("Redwood Shores", "CA", None, "San Mateo", "94065", "650"),
            Place("San Francisco", "CA", None, "San Francisco", "941##", "415"),
            Place("Austin", "TX", None, "Travis", "787##", "512"),
            Place("Chicago", "IL", None, "Cook", "606##", "312"),
            Place("New York", "NY", None, "New York", "100##", "212"),
            Place("Atlanta", "GA", None, "Fulton", "303##", "404"),
            Place("Seattle", "WA", None, "King", "981##", "206"),
            Place("Denver", "CO", None, "Denver", "802##", "303"),
            Place("Boston", "MA", None, "Suffolk", "021##", "617"),
            Place("Miami", "FL", None, "Miami-Dade", "331##", "305"),
        ),
        True,
        _US_SURNAMES,
        _US_FIRST,
    ),
    CountryProfile(
        "GB",
        "GBP",
        "44",
        10,
        ("Ltd", "Limited", "PLC", "LLP"),
        ("High Street", "Station Road", "Victoria Street", "King's Road", "Church Lane", "Mill Lane"),
        (
            Place("London", None, None, "Greater London", "EC#@ #@@", "20"),
            Place("Manchester", None, None, "Greater Manchester", "M# #@@", "161"),
            Place("Edinburgh", None, None, "City of Edinburgh", "EH# #@@", "131"),
            Place("Bristol", None, None, "Bristol", "BS# #@@", "117"),
        ),
        True,
        ("Taylor", "Evans", "Hughes", "Walker", "O'Neill", "Ahmed", "MacLeod", "Fitzgerald-Smythe"),
        ("Oliver", "Amelia", "Harry", "Isla", "Siobhán", "Rhys", "Aoife", "Noor"),
    ),
    CountryProfile(
        "DE",
        "EUR",
        "49",
        9,
        ("GmbH", "AG", "KG", "GmbH & Co. KG", "SE"),
        ("Königstraße", "Hauptstraße", "Bahnhofstraße", "Schloßallee", "Mühlenweg", "Friedrichstraße"),
        (
            Place("Stuttgart", None, "Baden-Württemberg", None, "70###", "711"),
            Place("München", None, "Bayern", None, "80###", "89"),
            Place("Köln", None, "Nordrhein-Westfalen", None, "50###", "221"),
            Place("Berlin", None, "Berlin", None, "10###", "30"),
            Place("Düsseldorf", None, "Nordrhein-Westfalen", None, "40###", "211"),
        ),
        False,
        ("Müller", "Schäfer", "Köhler", "Groß", "Weiß", "Schmidt", "Becker", "Hoffmann"),
        ("Jürgen", "Lena", "Björn", "Käthe", "Maximilian", "Sophie", "Lukas", "Hannah"),
    ),
    CountryProfile(
        "FR",
        "EUR",
        "33",
        7,
        ("SA", "SAS", "SARL"),
        (
            "rue de la Paix",
            "avenue des Champs-Élysées",
            "rue de l'Église",
            "boulevard Haussmann",
            "quai Saint-Étienne",
        ),
        (
            Place("Paris", None, None, None, "750##", "1"),
            Place("Lyon", None, None, None, "6900#", "4"),
            Place("Orléans", None, None, None, "450##", "2"),
            Place("Besançon", None, None, None, "250##", "3"),
        ),
        True,
        ("Lefèvre", "Gérard", "Béranger", "Dubois", "Moreau", "Lemaître", "Faure"),
        ("François", "Hélène", "Amélie", "Jérôme", "Chloé", "Noël", "Inès"),
    ),
    CountryProfile(
        "CA",
        "CAD",
        "1",
        6,
        ("Inc.", "Ltd.", "Corporation", "ULC"),
        ("King Street West", "Rue Sainte-Catherine", "Granville Street", "Jasper Avenue", "Bay Street"),
        (
            Place("Toronto", None, "ON", None, "M#@ #@#", "416"),
            Place("Montréal", None, "QC", None, "H#@ #@#", "514"),
            Place("Vancouver", None, "BC", None, "V#@ #@#", "604"),
            Place("Edmonton", None, "AB", None, "T#@ #@#", "780"),
        ),
        True,
        ("Tremblay", "Gagnon", "Roy", "Côté", "Wilson", "MacDonald", "Bouchard"),
        ("Étienne", "Olivia", "Liam", "Mégane", "Noah", "Chloé", "Jacob"),
    ),
    CountryProfile(
        "JP",
        "JPY",
        "81",
        5,
        ("Co., Ltd.", "K.K.", "株式会社"),
        ("Marunouchi", "丸の内", "Umeda", "梅田", "Shibuya", "Sakae"),
        (
            Place("Chiyoda-ku", "Tokyo", None, None, "100-####", "3"),
            Place("千代田区", "東京都", None, None, "100-####", "3"),
            Place("Kita-ku", "Osaka", None, None, "530-####", "6"),
            Place("Naka-ku", "Aichi", None, None, "460-####", "52"),
        ),
        True,
        ("Tanaka", "Suzuki", "Sato", "田中", "佐藤", "Watanabe", "Yamamoto"),
        ("Hiroshi", "Yuki", "Haruto", "さくら", "Aiko", "Ren", "Yui"),
    ),
    CountryProfile(
        "BR",
        "BRL",
        "55",
        5,
        ("Ltda.", "S.A.", "EIRELI"),
        ("Avenida Paulista", "Rua da Consolação", "Avenida Atlântica", "Rua São Bento"),
        (
            Place("São Paulo", "SP", None, None, "01###-###", "11"),
            Place("Rio de Janeiro", "RJ", None, None, "22###-###", "21"),
            Place("Belo Horizonte", "MG", None, None, "30###-###", "31"),
        ),
        False,
        ("Gonçalves", "Simões", "Araújo", "Conceição", "Silva", "Magalhães"),
        ("João", "Antônio", "Luíza", "Conceição", "Thiago", "Letícia"),
    ),
    CountryProfile(
        "ES",
        "EUR",
        "34",
        4,
        ("S.L.", "S.A.", "S.L.U."),
        ("Calle de Alcalá", "Paseo de la Castellana", "Carrer de Balmes", "Avenida de la Constitución"),
        (
            Place("Madrid", None, "Madrid", None, "280##", "91"),
            Place("Barcelona", None, "Barcelona", None, "080##", "93"),
            Place("Sevilla", None, "Sevilla", None, "410##", "95"),
        ),
        False,
        ("Muñoz", "Ibáñez", "García", "Pérez", "Núñez", "Castaño"),
        ("José", "María", "Íñigo", "Begoña", "Sofía", "Álvaro"),
    ),
    CountryProfile(
        "NL",
        "EUR",
        "31",
        3,
        ("B.V.", "N.V."),
        ("Keizersgracht", "Coolsingel", "Damrak", "Stationsplein"),
        (
            Place("Amsterdam", None, "Noord-Holland", None, "10## @@", "20"),
            Place("Rotterdam", None, "Zuid-Holland", None, "30## @@", "10"),
        ),
        False,
        ("de Vries", "van den Berg", "Bakker", "Jansen", "van 't Hek"),
        ("Daan", "Sanne", "Bram", "Femke", "Sem"),
    ),
    CountryProfile(
        "SE",
        "SEK",
        "46",
        3,
        ("AB", "HB"),
        ("Drottninggatan", "Storgatan", "Kungsgatan", "Sveavägen"),
        (
            Place("Stockholm", None, None, "Stockholms län", "1## ##", "8"),
            Place("Göteborg", None, None, "Västra Götalands län", "4## ##", "31"),
            Place("Malmö", None, None, "Skåne län", "2## ##", "40"),
        ),
        False,
        ("Åkesson", "Öberg", "Lindqvist", "Johansson", "Ström"),
        ("Åsa", "Björn", "Linnéa", "Göran", "Maja"),
    ),
    CountryProfile(
        "IN",
        "INR",
        "91",
        2,
        ("Pvt. Ltd.", "Ltd.", "LLP"),
        ("MG Road", "Nariman Point", "Connaught Place", "Anna Salai"),
        (
            Place("Bengaluru", "KA", None, None, "560###", "80"),
            Place("Mumbai", "MH", None, None, "400###", "22"),
        ),
        True,
        ("Sharma", "Iyer", "Reddy", "Banerjee", "Nair"),
        ("Aarav", "Ananya", "Vihaan", "Diya", "Ishaan"),
    ),
)

COUNTRY_TABLE: tuple[CountryProfile, ...] = tuple(c for c in COUNTRIES for _ in range(c.weight))

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
