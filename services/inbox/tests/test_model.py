"""The pure rules: the window, names, search, cursors, statuses and template checks."""

from datetime import UTC, datetime, timedelta

import pytest

from hanout_shared.contracts.whatsapp import (
    ContactIdentity,
    TemplateButton,
    TemplateContent,
    TemplateSection,
)
from hanout_shared.platform.phones import wa_id_e164
from inbox.channels.templates import slots, template_problem
from inbox.conversations.messages import RANK, status_name, tick
from inbox.conversations.model import (
    WINDOW_CLOSED,
    ConversationRow,
    CustomerLink,
    display_name,
    window,
)
from inbox.conversations.search import (
    Search,
    phone_keys,
    search,
    search_grams,
    search_keys,
)
from inbox.values import decode_cursor, encode_cursor, fold

from .builders import a_template

T0 = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)


def test_the_window_runs_24_hours_from_the_customers_whatsapp_time() -> None:
    inside = window(T0, T0 + timedelta(hours=23))
    assert (inside.open, inside.seconds_left, inside.banner) == (True, 3600, None)
    assert inside.expires_at == T0 + timedelta(hours=24)
    closed = window(T0, T0 + timedelta(hours=24))
    assert (closed.open, closed.seconds_left, closed.banner) == (False, 0, WINDOW_CLOSED)
    assert window(None, T0).open is False


def row(**fields: object) -> ConversationRow:
    return ConversationRow.model_validate(
        {"id": "c", "workspace_id": "w", "conversation_key": "w:p:x", "phone_number_id": "p"}
        | fields
    )


def test_the_displayed_name_prefers_the_card_then_the_profile_then_the_number() -> None:
    contact = ContactIdentity(wa_id="212612345678", profile_name="Karim")
    known = CustomerLink(outcome="known", customer_id="c1", name="Karim Benali")
    assert display_name(row(contact=contact, customer=known)) == "Karim Benali"
    unknown = CustomerLink(outcome="unknown")
    assert display_name(row(contact=contact, customer=unknown)) == "Karim"
    assert display_name(row(contact=ContactIdentity(wa_id="212612345678"))) == "+212612345678"
    bsuid = ContactIdentity(user_id="MA.1", username="karim.shop")
    assert display_name(row(contact=bsuid)) == "karim.shop"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("06 12 34 56 78", Search(digits="212612345678")),
        ("+212 612-345678", Search(digits="212612345678")),
        ("00212612345678", Search(digits="212612345678")),
        ("612345678", Search(digits="212612345678")),
        ("0612", Search(digits="0612")),
        ("0021261", Search(digits="21261")),
        ("Fâtima", Search(text="fatima")),
        ("  ", None),
        ("--", Search(text="--")),
        (".*", Search(text=".*")),
    ],
)
def test_a_search_is_a_name_or_the_digits_of_a_number_in_any_format(
    query: str, expected: Search | None
) -> None:
    assert search(query) == expected


def test_numbers_are_searchable_in_international_and_national_form() -> None:
    assert phone_keys(wa_id_e164("212612345678")) == ["212612345678", "0612345678"]
    assert phone_keys(None) == []
    assert fold("  ZINEB El-Amrani ") == "zineb el-amrani"


def test_a_cursor_round_trips_and_a_forged_one_is_refused() -> None:
    text = encode_cursor(T0, "id-1")
    assert text is not None
    cursor = decode_cursor(text)
    assert cursor is not None and (cursor.at, cursor.id) == (T0, "id-1")
    assert decode_cursor("bm9wZQ") is None
    assert decode_cursor("!!") is None
    assert encode_cursor(None, "id") is None


def test_statuses_only_move_forward_and_failed_sits_below_delivered() -> None:
    order = ["pending", "accepted", "sent", "failed", "delivered", "read", "played"]
    assert sorted(RANK, key=RANK.__getitem__) == order
    assert status_name(max(RANK["read"], RANK["delivered"])) == "read"
    assert tick("read", T0, []) is not None
    assert tick("sent.$x", T0, []) is None


def test_template_slots_name_every_parameter_a_send_must_fill() -> None:
    template = a_template(
        sections=[
            TemplateSection(type="HEADER", format="TEXT", text="Commande {{1}}"),
            TemplateSection(type="BODY", text="{{1}}, total {{2}} ({{1}})"),
            TemplateSection(
                type="BUTTONS",
                buttons=[
                    TemplateButton(type="QUICK_REPLY", text="Ok"),
                    TemplateButton(type="COPY_CODE"),
                ],
            ),
        ]
    )
    found = [(s.component, s.index, s.names) for s in slots(template)]
    assert found == [("header", None, ["1"]), ("body", None, ["1", "2"]), ("button", 1, ["1"])]


def test_a_template_that_is_not_approved_is_refused() -> None:
    pending = a_template(status="PENDING")
    content = TemplateContent(name=pending.name, language="fr")
    problem = template_problem(content, [pending])
    assert problem is not None and problem.code == "template_not_approved"


def test_parameters_given_to_a_component_without_variables_are_refused() -> None:
    plain = a_template(sections=[TemplateSection(type="BODY", text="Merci!")])
    content = TemplateContent.model_validate(
        {
            "name": plain.name,
            "language": "fr",
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "x"}]}],
        }
    )
    problem = template_problem(content, [plain])
    assert problem is not None and problem.message == "The template's body takes no parameters"
    ok = TemplateContent(name=plain.name, language="fr")
    assert template_problem(ok, [plain]) is None


def test_search_keys_are_the_trigrams_of_every_word_and_number() -> None:
    keys = search_keys(["fatima zahra"], ["212612345678", "0612345678"])
    for wanted in (Search(text="tim"), Search(text="ima zah"), Search(digits="2345")):
        assert set(search_grams(wanted)) <= set(keys), wanted
    assert "t:a z" not in keys and "t:za" not in keys  # within words, three at least
    assert "d:061" in keys and "d:212" in keys and "n:212612345678" in keys
    assert not set(search_grams(Search(text="benna"))) <= set(keys)


def test_a_search_narrows_by_the_trigrams_of_its_words_and_not_by_a_short_fragment() -> None:
    assert search_grams(Search(text="ima zahra")) == ["t:ima", "t:zah", "t:ahr", "t:hra"]
    assert search_grams(Search(text="ab cd")) == []
    assert search_grams(Search(text=".*")) == []
    assert search_grams(Search(digits="0612")) == ["d:061", "d:612"]
    assert search_grams(Search(digits="06")) == []
