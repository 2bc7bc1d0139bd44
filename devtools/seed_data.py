"""The demo shop: its workspace, agents and numbers, its customers and what they write (French,
Darija, Arabic), its stock and templates."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel

NAMES = [
    "Fatima Zahra El Idrissi", "Youssef Benjelloun", "خديجة بنعلي", "Mehdi Tazi",
    "Salma Berrada", "محمد أمين العلوي", "Omar Chraibi", "Nadia Lahlou",
    "Hamza El Fassi", "سكينة الإدريسي", "Imane Bennis", "Rachid Ouazzani",
    "Sara Alami", "عبد الرحيم المنصوري", "Anas Kettani", "Meryem Sqalli",
    "Ayoub Zniber", "ليلى بنكيران", "Hajar Benkirane", "Karim Naciri",
    "Loubna Skalli", "إدريس الشرقاوي", "Adil Filali", "Zineb Cherkaoui",
    "Othmane Guessous", "حنان الفاسي", "Soukaina Amrani", "Reda Bouzid",
    "Asmae Lamrani", "يوسف الحسني", "Ilham Rami", "Badr Ouali",
]  # fmt: skip

CITIES = [
    ("Casablanca", "12 rue Ibnou Mounir, Maârif"), ("Rabat", "Hay Riad, secteur 14, imm. 3"),
    ("Marrakech", "Derb Sidi Bouamar 27, Médina"), ("Fès", "حي النرجس، زنقة 8، رقم 41"),
    ("Tanger", "Avenue Mohammed VI, résidence Al Boughaz"), ("Agadir", "Hay Dakhla, bloc C 112"),
    ("Meknès", "Hamria, rue de Paris 5"), ("Oujda", "حي القدس، شارع الزيتون 19"),
    ("Kénitra", "Bir Rami Est, lot 230"), ("Tétouan", "Avenue des FAR 44"),
]  # fmt: skip

# What customers write, oldest first; each conversation plays one script.
SCRIPTS = [
    ["Bonjour, je voudrais commander le caftan brodé en taille M",
     "C'est combien la livraison à Rabat ?", "D'accord, je confirme 👍"],
    ["Salam, wach had l'produit mazal kayn?", "Bghit jouj dyal les babouches, pointure 38",
     "Chhal taman m3a livraison l Casa?"],
    ["السلام عليكم، واش زيت الأركان مازال متوفر؟", "بغيت نطلب جوج قراعي",
     "شحال الثمن مع التوصيل لفاس؟"],
    ["مرحبا، أريد الاستفسار عن طلبي", "متى يصل الطلب؟ لم أتوصل بأي اتصال من الموزع"],
    ["Salam, la commande ma wsletnich, الموزع ما جاش", "Wach momkin t3awdo lia l'envoi ghedda?"],
    ["Bonsoir, est-ce que vous livrez à Oujda ?", "Et le paiement se fait à la livraison ?"],
    ["3afak chno kayn f les couleurs dyal sac?", "Ana bghit l'kahla", "Merci bzaf"],
    ["Bonjour, j'ai reçu la théière mais elle est rayée 😕", "Je peux l'échanger ?"],
]  # fmt: skip

PRODUCTS = [
    ("Caftan brodé", Decimal("450.00")), ("Babouches cuir", Decimal("180.00")),
    ("Huile d'argan 250 ml", Decimal("120.00")), ("Théière argentée", Decimal("260.00")),
    ("Tapis berbère", Decimal("1200.00")), ("Verres à thé (6)", Decimal("95.00")),
    ("Djellaba femme", Decimal("380.00")), ("Sac en cuir", Decimal("320.00")),
    ("Savon noir", Decimal("45.00")), ("Ghassoul", Decimal("35.50")),
]  # fmt: skip


class AgentSpec(BaseModel):
    agent_id: str
    name: str
    roles: list[str]


class NumberSpec(BaseModel):
    phone_number_id: str
    display_phone_number: str
    waba_id: str
    name: str


class WorkspaceSpec(BaseModel):
    workspace_id: str
    name: str
    agents: list[AgentSpec]
    numbers: list[NumberSpec]

    def agent(self, agent_id: str) -> AgentSpec | None:
        return next((a for a in self.agents if a.agent_id == agent_id), None)


class Roster(BaseModel):
    """The seeded workspaces, their agents (for the dev sign-in) and business numbers."""

    workspaces: list[WorkspaceSpec]

    def workspace(self, workspace_id: str) -> WorkspaceSpec | None:
        return next((w for w in self.workspaces if w.workspace_id == workspace_id), None)

    def number(self, phone_number_id: str) -> NumberSpec | None:
        numbers = (n for w in self.workspaces for n in w.numbers)
        return next((n for n in numbers if n.phone_number_id == phone_number_id), None)


def demo_workspace(
    workspace_id: str = "demo", number_ids: tuple[str, str] | None = None
) -> WorkspaceSpec:
    first, second = number_ids or ("100000000000001", "100000000000002")
    return WorkspaceSpec(
        workspace_id=workspace_id,
        name="Hanout Démo (Casablanca)",
        agents=[
            AgentSpec(agent_id="agent-1", name="Salma Bennani", roles=["admin"]),
            AgentSpec(agent_id="agent-2", name="Youssef Alaoui", roles=["agent"]),
            AgentSpec(agent_id="agent-3", name="Khadija Amrani", roles=["agent"]),
        ],
        numbers=[
            NumberSpec(phone_number_id=first, display_phone_number="212522000111",
                       waba_id="200000000000001", name="Boutique"),
            NumberSpec(phone_number_id=second, display_phone_number="212522000222",
                       waba_id="200000000000002", name="Service après-vente"),
        ],
    )  # fmt: skip


def demo_roster() -> Roster:
    return Roster(workspaces=[demo_workspace()])


@dataclass(frozen=True)
class Contact:
    index: int
    name: str
    wa_id: str
    number: NumberSpec
    city: str
    address: str
    has_card: bool
    script: list[str]
    minutes_ago: int  # the customer's last message

    @property
    def window_open(self) -> bool:
        return self.minutes_ago < 23 * 60

    def phone_as_typed(self) -> str:
        """Numbers as shops type them: the lookup must find every format."""
        local = self.wa_id[3:]
        return [f"+212 {local[:3]}-{local[3:]}", f"0{local}", f"00212 {local}"][self.index % 3]


def contacts(workspace: WorkspaceSpec, count: int = len(NAMES)) -> list[Contact]:
    found = []
    for i in range(count):
        city, address = CITIES[i % len(CITIES)]
        closed = i % 7 == 5  # a few cold conversations: the window banner and templates
        found.append(Contact(
            index=i, name=NAMES[i % len(NAMES)],
            wa_id=f"2126{(12345678 + i * 7919) % 100_000_000:08d}",
            number=workspace.numbers[i % len(workspace.numbers)], city=city, address=address,
            has_card=i % 4 != 3, script=SCRIPTS[i % len(SCRIPTS)],
            minutes_ago=26 * 60 + i * 10 if closed else 4 + i * 23,
        ))  # fmt: skip
    return found


# The default pipeline's stages (services/orders), so the demo shows every badge colour.
STAGES = ["new", "confirmed", "shipped", "delivered", "failed", "returned", "cancelled"]

REPLIES = [
    "Bonjour ! Oui, il est disponible. La livraison est de 30 DH partout au Maroc.",
    "Salam, ah mazal kayn. Livraison 30 DH, l'khlas 3end l'wousoul.",
    "وعليكم السلام، نعم متوفر. التوصيل 30 درهم والدفع عند الاستلام.",
]

TAGS = [["VIP"], ["fidèle"], [], ["grossiste"], [], ["à rappeler"]]
STATUSES = ["VIP", None, None, "to recontact", None, "at risk"]


def templates() -> list[dict[str, object]]:
    """Approved templates as Meta lists them, for the simulator to serve to ingest."""
    body = "Bonjour {{1}}, votre commande {{2}} est prête. Souhaitez-vous confirmer la livraison ?"
    ar_body = "مرحبا {{1}}، طلبك {{2}} جاهز. هل نؤكد التوصيل؟"
    thanks = "Merci de votre visite chez nous !"
    return [
        {"name": "relance_commande", "language": "fr", "status": "APPROVED",
         "category": "UTILITY", "id": "7001", "parameter_format": "POSITIONAL",
         "components": [{"type": "BODY", "text": body}]},
        {"name": "relance_commande", "language": "ar", "status": "APPROVED",
         "category": "UTILITY", "id": "7002", "parameter_format": "POSITIONAL",
         "components": [{"type": "BODY", "text": ar_body}]},
        {"name": "bienvenue", "language": "fr", "status": "APPROVED", "category": "MARKETING",
         "id": "7003", "components": [{"type": "BODY", "text": thanks}]},
        {"name": "promo_aid", "language": "fr", "status": "REJECTED", "category": "MARKETING",
         "id": "7004", "components": [{"type": "BODY", "text": "Promo"}]},
    ]  # fmt: skip


def _pdf(title: str) -> bytes:
    """A one-page PDF naming the document: enough for WhatsApp to show it as a document."""
    text = f"BT /F1 18 Tf 60 760 Td ({title}) Tj ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


# The content library: (name the team searches, file name, type, bytes).
LIBRARY = [
    ("Catalogue printemps 2026", "catalogue-printemps-2026.pdf", "application/pdf",
     _pdf("Hanout - Catalogue printemps 2026")),
    ("Tarifs livraison", "tarifs-livraison.pdf", "application/pdf",
     _pdf("Tarifs de livraison: Casablanca 20 MAD, autres villes 30 MAD")),
    ("Guide des tailles caftans", "guide-tailles.pdf", "application/pdf",
     _pdf("Guide des tailles: S 36-38, M 40-42, L 44-46")),
]  # fmt: skip
