"""Reading ``/metrics`` in tests: scrape it with a token and look up sample values."""

from __future__ import annotations

from dataclasses import dataclass

from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

TOKEN = "test-metrics-token-1f0c"


@dataclass(frozen=True)
class Scrape:
    text: str
    samples: list[tuple[str, dict[str, str], float]]

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples named ``name`` whose labels include ``labels``."""
        return sum(
            value
            for sample, sample_labels, value in self.samples
            if sample == name and labels.items() <= sample_labels.items()
        )

    def label_values(self, name: str, label: str) -> set[str]:
        return {labels[label] for sample, labels, _ in self.samples if sample == name}

    def names(self) -> set[str]:
        return {sample for sample, _, _ in self.samples}


def parse(text: str) -> Scrape:
    samples = [
        (sample.name, dict(sample.labels), sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]
    return Scrape(text, samples)


def scrape(host: str = "localhost") -> Scrape:
    response = Client(HTTP_HOST=host).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/plain; version=")
    return parse(response.content.decode())
