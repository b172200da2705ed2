"""The register's own words, in French (the default) and English.

Pages are French unless ``?lang=en``: one URL per entry (the one the notices
link to), the language as a query parameter so links and caches stay simple.
Manifest texts are shown in the page language when the service wrote them in it,
else in the service's default language, marked with their own ``lang``.
The labels of the export links live with their formats (``exports.EXPORTS``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

__all__ = ["LANGUAGES", "Translator", "language_of"]

LANGUAGES = ("fr", "en")

_MESSAGES: Mapping[str, tuple[str, str]] = {
    "site_title": ("Registre public des systèmes d’IA", "Public register of AI systems"),
    "colon": ("\u00a0:", ":"),
    "skip": ("Aller au contenu", "Skip to content"),
    "other_language": ("English", "Français"),
    "other_language_label": ("Read this page in English", "Lire cette page en français"),
    "intro": (
        "Ce registre liste chaque système d’intelligence artificielle utilisé par les services "
        "numériques de la Métropole : à quoi il sert, qui le contrôle, comment contester une "
        "décision, et combien de fois son usage a été signalé au public.",
        "This register lists every artificial intelligence system used by the Metropolis’s "
        "digital services: what it is for, who oversees it, how to contest a decision, and how "
        "often people were told it was in use.",
    ),
    "search": ("Rechercher", "Search"),
    "search_label": ("Mots-clés", "Keywords"),
    "search_hint": (
        "Nom, finalité, fournisseur ou service. Les accents sont facultatifs.",
        "Name, purpose, provider or service. Accents are optional.",
    ),
    "filters": ("Filtrer les systèmes", "Filter the systems"),
    "service": ("Service", "Service"),
    "interaction": ("Type d’usage", "Kind of use"),
    "status": ("Statut", "Status"),
    "all": ("Tous", "All"),
    "apply": ("Appliquer", "Apply"),
    "reset": ("Tout afficher", "Show all"),
    "results": ("Résultats", "Results"),
    "result_count": ("{n} système(s) trouvé(s)", "{n} system(s) found"),
    "page_of": (", page {page} sur {pages}", ", page {page} of {pages}"),
    "pagination": ("Pages de résultats", "Result pages"),
    "page_n": ("Page {n}", "Page {n}"),
    "previous_page": ("Page précédente", "Previous page"),
    "next_page": ("Page suivante", "Next page"),
    "no_result": (
        "Aucun système ne correspond à ces critères.",
        "No system matches these criteria.",
    ),
    "open_data": ("Données ouvertes", "Open data"),
    "api": ("API (OpenAPI)", "API (OpenAPI)"),
    "operated_by": ("Service « {name} », {operator}", "Service “{name}”, {operator}"),
    "disclosures": ("Signalements au public", "Times people were told"),
    "purpose": ("Finalité", "Purpose"),
    "facts": ("En bref", "At a glance"),
    "origin": ("Ce que produit le système", "What the system produces"),
    "human_review": ("Relecture humaine", "Human review"),
    "reviewed_by": ("Oui, par {by}", "Yes, by {by}"),
    "reviewed": ("Oui", "Yes"),
    "not_reviewed": (
        "Non : le résultat n’est pas relu avant de vous parvenir",
        "No: the output is not checked before it reaches you",
    ),
    "audience": ("Utilisé par", "Used by"),
    "provider_model": ("Fournisseur et modèle", "Provider and model"),
    "provider": ("Fournisseur", "Provider"),
    "model": ("Modèle", "Model"),
    "human_oversight": ("Contrôle humain", "Human oversight"),
    "legal_basis": ("Base légale", "Legal basis"),
    "data_sources": ("Sources de données", "Data sources"),
    "recourse": ("Recours et contact", "Recourse and contact"),
    "contact": ("Contact du service", "Service contact"),
    "ethics_review": ("Avis du comité d’éthique", "Ethics committee review"),
    "bias_audit": ("Audit des biais", "Bias audit"),
    "audit_of": ("Audit du {date}", "Audit of {date}"),
    "reference": ("Référence", "Reference"),
    "not_stated": ("Non renseigné par le service.", "Not stated by the service."),
    "usage": ("Utilisation", "Use"),
    "usage_intro": (
        "Nombre de réponses du service qui vous ont signalé ce système, par jour (UTC).",
        "Number of the service’s responses that told people about this system, per day (UTC).",
    ),
    "total": ("Total", "Total"),
    "notice_shown": ("dont avec l’avis affiché", "of which with the notice shown"),
    "no_counts": (
        "Aucun signalement n’a encore été transmis au registre.",
        "No disclosure has been reported to the register yet.",
    ),
    "chart_title": ("Signalements par jour", "Disclosures per day"),
    "chart_desc": (
        "{days} jours, du {first} au {last} : {total} signalements, au plus {peak} en un jour.",
        "{days} days, from {first} to {last}: {total} disclosures, at most {peak} in a day.",
    ),
    "chart_shown": (
        "Les {days} derniers jours sont représentés.",
        "The last {days} days are shown.",
    ),
    "table_toggle": ("Voir les chiffres par jour", "See the figures per day"),
    "day": ("Jour", "Day"),
    "count": ("Signalements", "Disclosures"),
    "decisions": ("Décisions individuelles", "Individual decisions"),
    "decisions_intro": (
        "Nombre de décisions individuelles prises à l’aide de ce système que le service a "
        "enregistrées, par mois (UTC). Si une décision vous concerne, le service peut vous dire "
        "quel système l’a prise et, sur demande, comment (article L311-3-1 du code des "
        "relations entre le public et l’administration). Les références des dossiers ne sont "
        "jamais publiées.",
        "Number of individual decisions taken with this system that the service logged, per "
        "month (UTC). If a decision concerns you, the service can tell you which system took it "
        "and, on request, how (article L311-3-1 of the French code of relations between the "
        "public and the administration). Case references are never published.",
    ),
    "decisions_caption": ("Décisions enregistrées par mois", "Decisions logged per month"),
    "month": ("Mois", "Month"),
    "decision_count": ("Décisions", "Decisions"),
    "standards": ("Cadre réglementaire", "Regulatory status"),
    "standards_intro": (
        "Ce que le service déclare au titre du règlement européen sur l’IA et du code des "
        "relations entre le public et l’administration (CRPA).",
        "What the service declares under the EU AI Act and the French code of relations "
        "between the public and the administration (CRPA).",
    ),
    "uuid": ("Identifiant unique", "Unique identifier"),
    "ai_act_role": ("Rôle au sens de l’article 50", "Role under Article 50"),
    "risk": ("Catégorie de risque", "Risk category"),
    "annex_iii_area": ("Domaine de l’annexe III", "Annex III area"),
    "public_interest_text": (
        "Textes publiés pour informer le public",
        "Text published to inform the public",
    ),
    "public_interest_yes": (
        "Oui : ses textes d’intérêt public sont signalés comme produits par une IA.",
        "Yes: its public-interest texts are labelled as AI-made.",
    ),
    "public_interest_exception": (
        "Oui, relus avant publication sous la responsabilité éditoriale de {by} : "
        "exception de l’article 50, paragraphe 4.",
        "Yes, reviewed before publication under the editorial responsibility of {by}: "
        "the exception of Article 50(4).",
    ),
    "public_interest_no": ("Non", "No"),
    "automation": ("Part dans les décisions (CRPA)", "Share in decisions (CRPA)"),
    "decisions_per_year": ("Décisions par an", "Decisions per year"),
    "publication_category": ("Catégorie de publication", "Publication category"),
    "history": ("Historique des modifications", "History of changes"),
    "history_intro": (
        "Chaque publication du manifeste du service qui a modifié cette fiche.",
        "Each publication of the service’s manifest that changed this entry.",
    ),
    "version": ("Version {n}", "Version {n}"),
    "change_added": ("ajouté au registre", "added to the register"),
    "change_changed": ("fiche modifiée", "entry changed"),
    "change_removed": ("retiré du manifeste", "removed from the manifest"),
    "exports": ("Cette fiche dans d’autres formats", "This entry in other formats"),
    "export_json": ("JSON (API du registre)", "JSON (register API)"),
    "routes": ("Pages concernées", "Pages involved"),
    "breadcrumb": ("Fil d’Ariane", "Breadcrumb"),
    "home": ("Registre", "Register"),
    "systems_of": ("Systèmes d’IA du service", "AI systems of this service"),
    "manifest_versions": ("Publications du manifeste", "Manifest publications"),
    "published_on": ("publiée le {date}", "published on {date}"),
    "last_update": ("Dernière mise à jour : {date}", "Last updated: {date}"),
    "not_found": ("Page introuvable", "Page not found"),
    "not_found_text": (
        "Cette page n’existe pas ou le système a été retiré du registre.",
        "This page does not exist, or the system was removed from the register.",
    ),
    "error": ("Erreur du registre", "Register error"),
    "error_text": (
        "Le registre n’a pas pu afficher cette page. Réessayez dans un instant.",
        "The register could not show this page. Please try again shortly.",
    ),
    "back_home": ("Retour au registre", "Back to the register"),
    "footer": (
        "Registre tenu au titre de l’article 50 du règlement européen sur l’IA.",
        "Register kept under Article 50 of the EU AI Act.",
    ),
    "ai_none": (
        "Ce registre est rédigé par des personnes ; aucune IA ne produit ces pages.",
        "This register is written by people; no AI produces these pages.",
    ),
}

_LABELS: Mapping[str, Mapping[str, tuple[str, str]]] = {
    "interaction": {
        "chatbot": ("Agent conversationnel", "Chatbot"),
        "content-generation": ("Génération de contenu", "Content generation"),
        "decision-support": ("Aide à la décision", "Decision support"),
        "automated-decision": ("Décision automatisée", "Automated decision"),
        "translation": ("Traduction", "Translation"),
        "other": ("Autre", "Other"),
    },
    "origin": {
        "ai-originated": ("Contenu généré par l’IA", "Content generated by AI"),
        "ai-modified": ("Contenu modifié par l’IA", "Content modified by AI"),
        "machine-generated": (
            "Résultat d’un traitement automatisé",
            "Output of an automated process",
        ),
        "none": (
            "Rien de ce que vous voyez : il aide les agents",
            "Nothing you see: it assists staff",
        ),
    },
    "status": {
        "in-use": ("En service", "In use"),
        "in-development": ("En développement", "In development"),
        "retired": ("Retiré", "Retired"),
    },
    "audience": {
        "public": ("Le public", "The public"),
        "internal": ("Les agents uniquement", "Staff only"),
    },
    "ethics": {
        "approved": ("Favorable", "Approved"),
        "approved-with-conditions": ("Favorable sous conditions", "Approved with conditions"),
        "pending": ("En attente", "Pending"),
        "rejected": ("Défavorable", "Rejected"),
        "not-reviewed": ("Non examiné", "Not reviewed"),
    },
    "ai_act_role": {
        "deployer": ("Déployeur (il utilise le système)", "Deployer (it uses the system)"),
        "provider": (
            "Fournisseur (il a développé le système)",
            "Provider (it developed the system)",
        ),
    },
    "risk": {
        "prohibited": ("Pratique interdite (article 5)", "Prohibited practice (Article 5)"),
        "high-risk": ("Haut risque (article 6)", "High risk (Article 6)"),
        "limited": (
            "Risque limité (transparence, article 50)",
            "Limited risk (transparency, Article 50)",
        ),
        "minimal": ("Risque minimal", "Minimal risk"),
    },
    "annex_iii_area": {
        "biometrics": ("1. Biométrie", "1. Biometrics"),
        "critical-infrastructure": ("2. Infrastructures critiques", "2. Critical infrastructure"),
        "education": ("3. Éducation et formation", "3. Education and vocational training"),
        "employment": (
            "4. Emploi et gestion des travailleurs",
            "4. Employment and workers management",
        ),
        "essential-services": (
            "5. Accès aux services publics et privés essentiels",
            "5. Access to essential public and private services",
        ),
        "law-enforcement": ("6. Répression", "6. Law enforcement"),
        "migration": (
            "7. Migration, asile et contrôle aux frontières",
            "7. Migration, asylum and border control",
        ),
        "justice-democracy": (
            "8. Justice et processus démocratiques",
            "8. Administration of justice and democratic processes",
        ),
    },
    "automation": {
        "decision-support": (
            "Aide à la décision : un agent décide",
            "Decision support: an agent decides",
        ),
        "fully-automated": ("Décision entièrement automatisée", "Fully automated decision"),
    },
    "publication_category": {
        "high-risk-ai": ("IA à haut risque", "High-risk AI"),
        "impactful": ("Algorithme à impact", "Impactful algorithm"),
        "other": ("Autre algorithme", "Other algorithm"),
    },
}

_MONTHS = {
    "fr": (
        "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
        "septembre", "octobre", "novembre", "décembre",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December",
    ),
}  # fmt: skip


def language_of(value: str | None) -> str:
    """The page language for a ``lang`` query value: English if asked, else French."""
    return "en" if value == "en" else "fr"


class Translator:
    """Words, labels, numbers and dates in one page language."""

    def __init__(self, language: str) -> None:
        self.language = language_of(language)
        self._index = LANGUAGES.index(self.language)

    def __call__(self, key: str, **values: object) -> str:
        text = _MESSAGES[key][self._index]
        return text.format(**values) if values else text

    def label(self, kind: str, value: str) -> str:
        pair = _LABELS[kind].get(value)
        return pair[self._index] if pair else value

    def options(self, kind: str) -> list[tuple[str, str]]:
        return [(value, pair[self._index]) for value, pair in _LABELS[kind].items()]

    def number(self, value: int) -> str:
        """French groups digits with a narrow no-break space, English with commas."""
        grouped = f"{value:,}"
        return grouped.replace(",", "\u202f") if self.language == "fr" else grouped

    def month(self, value: str) -> str:
        """``2026-11`` as "novembre 2026" or "November 2026"."""
        return f"{_MONTHS[self.language][int(value[5:7]) - 1]} {value[:4]}"

    def date(self, value: str | date | None) -> str:
        if value is None:
            return ""
        day = date.fromisoformat(value[:10]) if isinstance(value, str) else value
        month = _MONTHS[self.language][day.month - 1]
        if self.language == "fr":
            first = "1er" if day.day == 1 else str(day.day)
            return f"{first} {month} {day.year}"
        return f"{day.day} {month} {day.year}"
