"""Names, departments and interests the demo institution is made of."""

from __future__ import annotations

FIRST = ("Ada", "Luis", "Mei", "Sam", "Ines", "Grace", "Omar", "Priya", "Jonas", "Amara", "Kenji", "Sofia", "Tariq",
         "Elena", "Marcus", "Aisha", "Noah", "Leila", "Diego", "Hana", "Victor", "Nadia", "Felix", "Zara", "Ravi",
         "Chloe", "Malik", "Ingrid", "Tomas", "Yara", "Ethan", "Lucia", "Kwame", "Freya", "Arjun", "Maya")
LAST = ("Okafor", "Romero", "Chen", "Patel", "Duarte", "Hopper", "Haddad", "Nair", "Berg", "Mensah", "Tanaka",
        "Rossi", "Aziz", "Petrova", "Johnson", "Bello", "Schmidt", "Farah", "Alvarez", "Kim", "Novak", "Karimi",
        "Weber", "Ali", "Iyer", "Martin", "Owusu", "Larsen", "Silva", "Cohen", "Murphy", "Garcia", "Osei", "Lund")

# (department id, name, specialties, interests its people bring)
DEPARTMENTS = (
    ("D-CARD", "Cardiology", ("heart failure", "electrophysiology"), ("clinical trials", "grant writing")),
    ("D-ONC", "Oncology", ("clinical trials", "radiation oncology"), ("work/life balance", "funding")),
    ("D-NEU", "Neuroscience", ("neuroimaging", "neurodegeneration"), ("manuscripts", "negotiation")),
    ("D-PED", "Pediatrics", ("neonatology", "adolescent health"), ("time management", "teaching")),
    ("D-PH", "Public Health", ("epidemiology", "health policy"), ("community outreach", "funding")),
    ("D-SUR", "Surgery", ("trauma surgery", "surgical education"), ("leadership", "clinical skills")),
    ("D-RAD", "Radiology", ("interventional radiology", "imaging AI"), ("research", "career planning")),
    ("D-PSY", "Psychiatry", ("addiction medicine", "child psychiatry"), ("work/life balance", "networking")),
    ("D-IM", "Internal Medicine", ("hospital medicine", "infectious disease"), ("teaching", "leadership")),
    ("D-NUR", "Nursing", ("critical care nursing", "nursing education"), ("leadership", "time management")),
    ("D-PHA", "Pharmacology", ("pharmacokinetics", "toxicology"), ("manuscripts", "funding")),
    ("D-BME", "Biomedical Engineering", ("medical devices", "biomaterials"), ("research", "negotiation")),
    ("D-EM", "Emergency Medicine", ("prehospital care", "toxicology"), ("clinical skills", "networking")),
    ("D-GEN", "Genetics", ("genomic medicine", "genetic counselling"), ("research", "career planning")),
)

TOPICS = ("goals", "time_management", "work_life_balance", "negotiation", "manuscripts", "funding",
          "career_planning", "networking", "teaching", "leadership", "clinical_skills", "research")
FORMATS = ("in_person", "video", "phone", "hybrid")
GOALS = (("Submit a first-author manuscript", "accepted or under review at a journal"),
         ("Apply for a career development award", "application submitted"),
         ("Present at a national meeting", "abstract accepted"),
         ("Build a teaching portfolio", "portfolio reviewed by the mentor"),
         ("Lead a quality-improvement project", "project report shared with the department"),
         ("Negotiate protected research time", "agreement with the chair in writing"))
DECLINES = ("Outside the program's scope: a clinical supervision matter", "Request duplicates a current arrangement",
            "Not yet eligible: the program takes staff after their first three months")
MENTOR_DECLINES = ("Full schedule this term", "Not the right fit for my expertise", "On leave for part of the year")
TITLES = {"faculty": ("Professor", "Associate Professor", "Assistant Professor", "Lecturer"),
          "clinical": ("Attending Physician", "Clinical Fellow", "Nurse Practitioner", "Resident"),
          "research": ("Research Scientist", "Postdoctoral Fellow", "Research Associate"),
          "administration": ("Program Coordinator", "Administrator", "Finance Officer")}
