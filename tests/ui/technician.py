"""What a technician does on the maintenance screen, step by step as they would."""


def asked(d, m, end: str) -> None:
    """Wait for the question about `end` and for its buttons drawn in place, as a technician sees them."""
    confirm, result = m.ids.confirm, m.ids.result
    d.until(lambda: m.asking == end and not m.busy and confirm.parent is not None
            and result.x - 1 <= confirm.x and confirm.right <= result.right + 1, what=f"asked to confirm {end}")
    d.frames(2)

