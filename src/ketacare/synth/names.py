"""Invented names for synthetic patients (combined at random; none is a real person's record)."""

GIVEN_NAMES = (
    "Maya", "Jordan", "Sam", "Lena", "Omar", "Grace", "Ivan", "Rosa", "Kai", "Nadia", "Eli",
    "Hana", "Marco", "Tess", "Yusuf", "Clara", "Dev", "Ines", "Felix", "June", "Ada", "Bruno",
    "Chloe", "Dara", "Emil", "Fatima", "Gus", "Hugo", "Iris", "Jonah", "Kira", "Luca", "Mina",
    "Nico", "Olga", "Pia", "Quentin", "Rhea", "Soren", "Talia", "Uma", "Vera", "Wes", "Xena",
    "Yara", "Zane", "Amir", "Bea", "Cyrus", "Delia",
)  # fmt: skip
FAMILY_NAMES = (
    "Rivera", "Okafor", "Lindqvist", "Haddad", "Moreau", "Tanaka", "Kowalski", "Brennan",
    "Abara", "Silva", "Novak", "Castillo", "Fischer", "Osei", "Park", "Quinn", "Adler", "Bauer",
    "Costa", "Dubois", "Eriksen", "Ferreira", "Garcia", "Hansen", "Ibrahim", "Jensen", "Kaur",
    "Larsen", "Mendes", "Nakamura", "Olsen", "Petrov", "Qureshi", "Rossi", "Sato", "Torres",
    "Ueda", "Varga", "Weber", "Xu", "Yilmaz", "Zhang", "Achebe", "Bianchi", "Chen", "Duarte",
    "Evans", "Fontaine", "Gallo", "Horvat", "Ito", "Jovanovic", "Kim", "Lopez", "Murphy",
    "Nowak", "Ortiz", "Popescu", "Reyes", "Schmidt",
)  # fmt: skip
