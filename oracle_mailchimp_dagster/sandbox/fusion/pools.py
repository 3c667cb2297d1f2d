"""Country pools for the customer generator: places, streets, legal suffixes, surnames and first names.

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
    weight: int  # customers per 256 (the mix the generator has always served)
    suffixes: tuple[str, ...]
    streets: tuple[str, ...]
    places: tuple[Place, ...]
    number_first: bool
    surnames: tuple[str, ...]
    first_names: tuple[str, ...]


_US_SURNAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Garcia", "Miller", "Davis", "Rodriguez", "O'Brien", "Nguyen",
    "Patel", "Kowalski", "Anderson", "Thompson", "Reyes", "Okafor", "Sullivan", "Kim", "Martinez",
    "Hernandez", "Lopez", "Wilson", "Moore", "Taylor", "Jackson", "White", "Harris", "Martin", "Clark",
    "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson",
    "Hill", "Campbell", "Mitchell", "Carter", "Roberts", "Chen", "Novak", "Schultz", "Murphy", "Washington",
)  # fmt: skip
_GB_SURNAMES = (
    "Taylor", "Evans", "Hughes", "Walker", "O'Neill", "Ahmed", "MacLeod", "Fitzgerald-Smythe", "Jones",
    "Davies", "Wilson", "Roberts", "Wright", "Thompson", "Robinson", "Wood", "Thomas", "Clarke", "Patel",
    "Khan", "Murray", "Campbell", "Kelly", "Price", "Bennett",
)  # fmt: skip
_DE_SURNAMES = (
    "Müller", "Schäfer", "Köhler", "Groß", "Weiß", "Schmidt", "Becker", "Hoffmann", "Fischer", "Weber",
    "Meyer", "Wagner", "Schulz", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz",
    "Zimmermann", "Krüger", "Hartmann", "Lange", "Böhm",
)  # fmt: skip
_FR_SURNAMES = (
    "Lefèvre", "Gérard", "Béranger", "Dubois", "Moreau", "Lemaître", "Faure", "Martin", "Bernard", "Petit",
    "Durand", "Leroy", "Roux", "Fournier", "Girard", "Bonnet", "Mercier", "Blanc", "Guérin", "Chevalier",
    "Rousseau", "Lambert",
)  # fmt: skip
_CA_SURNAMES = (
    "Tremblay", "Gagnon", "Roy", "Côté", "Wilson", "MacDonald", "Bouchard", "Pelletier", "Lavoie", "Fortin",
    "Gauthier", "Morin", "Campbell", "Stewart", "Leblanc", "Bélanger", "Lévesque", "Chan", "Singh",
    "Thompson", "Martin",
)  # fmt: skip
_JP_SURNAMES = (
    "Tanaka", "Suzuki", "Sato", "田中", "佐藤", "Watanabe", "Yamamoto", "Takahashi", "Ito", "Nakamura",
    "Kobayashi", "Kato", "Yoshida", "Yamada", "Sasaki", "Inoue", "Kimura", "鈴木", "高橋", "山田",
)  # fmt: skip
_BR_SURNAMES = (
    "Gonçalves", "Simões", "Araújo", "Conceição", "Silva", "Magalhães", "Santos", "Oliveira", "Souza",
    "Lima", "Pereira", "Ferreira", "Rodrigues", "Almeida", "Costa", "Ribeiro", "Carvalho", "Gomes",
    "Martins", "Rocha",
)  # fmt: skip
_ES_SURNAMES = (
    "Muñoz", "Ibáñez", "García", "Pérez", "Núñez", "Castaño", "Fernández", "López", "Martínez", "Sánchez",
    "González", "Rodríguez", "Gómez", "Díaz", "Moreno", "Álvarez", "Romero", "Navarro", "Torres",
    "Domínguez",
)  # fmt: skip
_NL_SURNAMES = (
    "de Vries", "van den Berg", "Bakker", "Jansen", "van 't Hek", "Visser", "Smit", "Meijer", "de Boer",
    "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "Dekker", "van Dijk", "Brouwer",
)  # fmt: skip
_SE_SURNAMES = (
    "Åkesson", "Öberg", "Lindqvist", "Johansson", "Ström", "Andersson", "Karlsson", "Nilsson", "Eriksson",
    "Larsson", "Olsson", "Persson", "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Lindström",
    "Bergström",
)  # fmt: skip
_IN_SURNAMES = (
    "Sharma", "Iyer", "Reddy", "Banerjee", "Nair", "Patel", "Gupta", "Singh", "Kumar", "Rao", "Menon",
    "Pillai", "Joshi", "Desai", "Mehta", "Chatterjee", "Mukherjee", "Kapoor",
)  # fmt: skip
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
        138,
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
        30,
        ("Ltd", "Limited", "PLC", "LLP"),
        ("High Street", "Station Road", "Victoria Street", "King's Road", "Church Lane", "Mill Lane"),
        (
            Place("London", None, None, "Greater London", "EC#@ #@@", "20"),
            Place("Manchester", None, None, "Greater Manchester", "M# #@@", "161"),
            Place("Edinburgh", None, None, "City of Edinburgh", "EH# #@@", "131"),
            Place("Bristol", None, None, "Bristol", "BS# #@@", "117"),
        ),
        True,
        _GB_SURNAMES,
        ("Oliver", "Amelia", "Harry", "Isla", "Siobhán", "Rhys", "Aoife", "Noor"),
    ),
    CountryProfile(
        "DE",
        "EUR",
        "49",
        18,
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
        _DE_SURNAMES,
        ("Jürgen", "Lena", "Björn", "Käthe", "Maximilian", "Sophie", "Lukas", "Hannah"),
    ),
    CountryProfile(
        "FR",
        "EUR",
        "33",
        14,
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
        _FR_SURNAMES,
        ("François", "Hélène", "Amélie", "Jérôme", "Chloé", "Noël", "Inès"),
    ),
    CountryProfile(
        "CA",
        "CAD",
        "1",
        12,
        ("Inc.", "Ltd.", "Corporation", "ULC"),
        ("King Street West", "Rue Sainte-Catherine", "Granville Street", "Jasper Avenue", "Bay Street"),
        (
            Place("Toronto", None, "ON", None, "M#@ #@#", "416"),
            Place("Montréal", None, "QC", None, "H#@ #@#", "514"),
            Place("Vancouver", None, "BC", None, "V#@ #@#", "604"),
            Place("Edmonton", None, "AB", None, "T#@ #@#", "780"),
        ),
        True,
        _CA_SURNAMES,
        ("Étienne", "Olivia", "Liam", "Mégane", "Noah", "Chloé", "Jacob"),
    ),
    CountryProfile(
        "JP",
        "JPY",
        "81",
        10,
        ("Co., Ltd.", "K.K.", "株式会社"),
        ("Marunouchi", "丸の内", "Umeda", "梅田", "Shibuya", "Sakae"),
        (
            Place("Chiyoda-ku", "Tokyo", None, None, "100-####", "3"),
            Place("千代田区", "東京都", None, None, "100-####", "3"),
            Place("Kita-ku", "Osaka", None, None, "530-####", "6"),
            Place("Naka-ku", "Aichi", None, None, "460-####", "52"),
        ),
        True,
        _JP_SURNAMES,
        ("Hiroshi", "Yuki", "Haruto", "さくら", "Aiko", "Ren", "Yui"),
    ),
    CountryProfile(
        "BR",
        "BRL",
        "55",
        10,
        ("Ltda.", "S.A.", "EIRELI"),
        ("Avenida Paulista", "Rua da Consolação", "Avenida Atlântica", "Rua São Bento"),
        (
            Place("São Paulo", "SP", None, None, "01###-###", "11"),
            Place("Rio de Janeiro", "RJ", None, None, "22###-###", "21"),
            Place("Belo Horizonte", "MG", None, None, "30###-###", "31"),
        ),
        False,
        _BR_SURNAMES,
        ("João", "Antônio", "Luíza", "Conceição", "Thiago", "Letícia"),
    ),
    CountryProfile(
        "ES",
        "EUR",
        "34",
        8,
        ("S.L.", "S.A.", "S.L.U."),
        ("Calle de Alcalá", "Paseo de la Castellana", "Carrer de Balmes", "Avenida de la Constitución"),
        (
            Place("Madrid", None, "Madrid", None, "280##", "91"),
            Place("Barcelona", None, "Barcelona", None, "080##", "93"),
            Place("Sevilla", None, "Sevilla", None, "410##", "95"),
        ),
        False,
        _ES_SURNAMES,
        ("José", "María", "Íñigo", "Begoña", "Sofía", "Álvaro"),
    ),
    CountryProfile(
        "NL",
        "EUR",
        "31",
        6,
        ("B.V.", "N.V."),
        ("Keizersgracht", "Coolsingel", "Damrak", "Stationsplein"),
        (
            Place("Amsterdam", None, "Noord-Holland", None, "10## @@", "20"),
            Place("Rotterdam", None, "Zuid-Holland", None, "30## @@", "10"),
        ),
        False,
        _NL_SURNAMES,
        ("Daan", "Sanne", "Bram", "Femke", "Sem"),
    ),
    CountryProfile(
        "SE",
        "SEK",
        "46",
        6,
        ("AB", "HB"),
        ("Drottninggatan", "Storgatan", "Kungsgatan", "Sveavägen"),
        (
            Place("Stockholm", None, None, "Stockholms län", "1## ##", "8"),
            Place("Göteborg", None, None, "Västra Götalands län", "4## ##", "31"),
            Place("Malmö", None, None, "Skåne län", "2## ##", "40"),
        ),
        False,
        _SE_SURNAMES,
        ("Åsa", "Björn", "Linnéa", "Göran", "Maja"),
    ),
    CountryProfile(
        "IN",
        "INR",
        "91",
        4,
        ("Pvt. Ltd.", "Ltd.", "LLP"),
        ("MG Road", "Nariman Point", "Connaught Place", "Anna Salai"),
        (
            Place("Bengaluru", "KA", None, None, "560###", "80"),
            Place("Mumbai", "MH", None, None, "400###", "22"),
        ),
        True,
        _IN_SURNAMES,
        ("Aarav", "Ananya", "Vihaan", "Diya", "Ishaan"),
    ),
)

COUNTRY_TABLE: tuple[CountryProfile, ...] = tuple(c for c in COUNTRIES for _ in range(c.weight))
