"""Reading Prometheus text as a test sees it, with prometheus-client's own parser."""

from prometheus_client.parser import text_string_to_metric_families


class Scrape:
    """One scrape's samples: `value(name, **labels)` sums every sample of `name` whose
    labels include those given (0 when none)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples = [
            (sample.name, sample.labels, sample.value)
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        ]

    def value(self, name: str, **labels: str) -> float:
        return sum(
            value
            for sample_name, sample_labels, value in self.samples
            if sample_name == name and labels.items() <= sample_labels.items()
        )

    def has(self, name: str, **labels: str) -> bool:
        return any(
            sample_name == name and labels.items() <= sample_labels.items()
            for sample_name, sample_labels, _value in self.samples
        )

    def label_values(self, name: str, label: str) -> set[str]:
        return {
            labels[label]
            for sample_name, labels, _value in self.samples
            if sample_name == name and label in labels
        }
