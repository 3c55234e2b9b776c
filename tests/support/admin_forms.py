"""What a browser would submit from an admin page's form, for tests that press "Save".

`submitted_fields` reads the form out of the rendered HTML (inputs, checked
boxes, selected options, text areas, the "Save" button), as a browser sends
it. `filled_in` then gives every required field the form left empty a valid
sample value, chosen by the form field's type, as an operator would type one.
"""

import uuid
from html.parser import HTMLParser

from django import forms

# Accepted by Django's password validators (length, not common, not numeric).
SAMPLE_PASSWORD = "Sample-pass-for-admin-forms-2026"


class _FormReader(HTMLParser):
    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.in_form = False
        self.found = False
        self.fields: list[tuple[str, str]] = []
        self._select: tuple[str, bool] | None = None  # (name, multiple)
        self._options: list[tuple[str, bool]] = []  # (value, selected)
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and attributes.get("id") == self.form_id:
            self.in_form = self.found = True
        if not self.in_form or "disabled" in attributes:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attributes:
                    self.fields.append((name, attributes.get("value", "on")))
            elif kind == "submit":
                # Only the button pressed is sent: "Save".
                if name == "_save":
                    self.fields.append((name, attributes.get("value", "")))
            elif kind not in ("file", "button", "reset", "image"):
                self.fields.append((name, attributes.get("value", "")))
        elif tag == "select" and name:
            self._select = (name, "multiple" in attributes)
            self._options = []
        elif tag == "option" and self._select:
            self._options.append((attributes.get("value", ""), "selected" in attributes))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "form" and self.in_form:
            self.in_form = False
        elif tag == "select" and self._select:
            name, multiple = self._select
            chosen = [value for value, selected in self._options if selected]
            if not chosen and not multiple and self._options:
                chosen = [self._options[0][0]]  # a browser sends the first option
            self.fields.extend((name, value) for value in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # Browsers drop the one newline right after <textarea>.
            self.fields.append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None


def submitted_fields(html: str, form_id: str) -> list[tuple[str, str]] | None:
    """The (name, value) pairs a browser submits from form `form_id`; None if the page has no such form."""
    reader = _FormReader(form_id)
    reader.feed(html)
    return reader.fields if reader.found else None


def _sample(field: forms.Field, name: str) -> list[str]:
    """Valid values for one empty required form field (one per sub-widget of a multi-value field)."""
    if isinstance(field, forms.SplitDateTimeField):
        return ["2030-01-01", "12:00:00"]
    if isinstance(field, forms.ModelMultipleChoiceField | forms.ModelChoiceField):
        return [str(field.queryset.values_list("pk", flat=True)[0])]
    if isinstance(field, forms.ChoiceField):
        return [next(str(value) for value, _ in field.choices if value not in ("", None))]
    if isinstance(field, forms.UUIDField):
        return [str(uuid.uuid4())]
    if isinstance(field, forms.DateTimeField):
        return ["2030-01-01 12:00:00"]
    if isinstance(field, forms.DateField):
        return ["2030-01-01"]
    if isinstance(field, forms.EmailField):
        return ["sample@example.com"]
    if isinstance(field, forms.IntegerField | forms.DecimalField | forms.FloatField):
        return ["1"]
    if isinstance(field, forms.JSONField):
        return ["{}"]
    if isinstance(field, forms.BooleanField):
        return ["on"]
    if isinstance(field.widget, forms.PasswordInput):
        return [SAMPLE_PASSWORD]
    return [f"sample-{name}"]


def filled_in(fields: list[tuple[str, str]], form: forms.BaseForm) -> list[tuple[str, str]]:
    """`fields` with a sample value in every required field of `form` that is empty.

    Password fields count as required: a user's form requires them only when
    the password is to be usable, which is what it shows first.
    """
    given = {name for name, value in fields if value}
    filled = list(fields)
    for name, field in form.fields.items():
        if field.disabled or not (field.required or isinstance(field.widget, forms.PasswordInput)):
            continue
        html_name = form.add_prefix(name)
        widget = field.widget
        names = (
            [html_name + suffix for suffix in widget.widgets_names]
            if isinstance(widget, forms.MultiWidget)
            else [html_name]
        )
        if any(part in given for part in names):
            continue
        filled = [(key, value) for key, value in filled if key not in names]
        filled.extend(zip(names, _sample(field, name), strict=True))
    return filled
