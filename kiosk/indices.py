"""The index arithmetic, shared by the kiosk and central (SIPAS-style, see domain.md).

Per rating question: how many answered, the distribution over 1–5, the mean,
and the satisfied share (answers of 4 or 5). Choice questions are counted per
option. Input is any iterable of answer dicts, so both apps can feed it.
"""

from collections import Counter

SCALE = (1, 2, 3, 4, 5)
SATISFIED = (4, 5)


def rating_stats(values) -> dict:
    counts = Counter(values)
    answered = sum(counts.values())
    return {
        "answered": answered,
        "distribution": {str(v): counts.get(v, 0) for v in SCALE},
        "mean": round(sum(v * n for v, n in counts.items()) / answered, 3) if answered else None,
        "satisfied_pct": round(100 * sum(counts[v] for v in SATISFIED) / answered, 2) if answered else None,
    }


def summarize(answer_sets) -> dict:
    """Count the responses and describe every question answered in them."""
    ratings, choices, total = {}, {}, 0
    for answers in answer_sets:
        total += 1
        for key, value in answers.items():
            if isinstance(value, int) and not isinstance(value, bool) and value in SCALE:
                ratings.setdefault(key, []).append(value)
            elif isinstance(value, str):
                choices.setdefault(key, Counter())[value] += 1
    return {
        "responses": total,
        "questions": {key: rating_stats(values) for key, values in sorted(ratings.items())},
        "choices": {key: dict(sorted(counts.items())) for key, counts in sorted(choices.items())},
    }
