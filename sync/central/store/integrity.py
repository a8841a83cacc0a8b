"""One kiosk's integrity: gaps and broken links derived per chain from what is stored, and recorded events."""

from sqlalchemy import func, select, text

from .schema import installs, integrity_events, quarantine, responses


def integrity_report(engine, kiosk_id: str) -> dict:
    """Gaps and broken links, derived per (kiosk, install) chain from what is stored, plus the recorded events.

    Returns ``{kiosk, responses, highest_seq, quarantined, installs: [...], events: [...]}``; each event
    has ``kind``, ``install_id`` ('' for the legacy store, None when not about one), ``seq_from``, ``seq_to``
    and ``detail``.
    """
    chain_of = ("LEFT JOIN installs i ON i.kiosk_id = r.kiosk_id AND i.install_id = r.install_id ")
    with engine.connect() as conn:
        stored = conn.execute(select(func.count(), func.max(responses.c.seq)).where(
            responses.c.kiosk_id == kiosk_id)).one()
        gaps = conn.execute(text(
            "SELECT install_id, prev + 1, seq - 1 FROM (SELECT r.install_id, r.seq, LAG(r.seq, 1, "
            "COALESCE(i.from_seq, 1) - 1) OVER (PARTITION BY r.install_id ORDER BY r.seq) AS prev "
            f"FROM responses r {chain_of}WHERE r.kiosk_id = :k) s WHERE seq - prev > 1 "
            "ORDER BY install_id, seq"), {"k": kiosk_id}).all()
        links = conn.execute(text(
            f"SELECT r.install_id, r.seq FROM responses r {chain_of}"
            "LEFT JOIN responses p ON p.kiosk_id = r.kiosk_id AND p.seq = r.seq - 1 AND p.install_id = "
            "CASE WHEN r.seq = COALESCE(i.from_seq, 1) THEN COALESCE(i.parent_id, '') ELSE r.install_id END "
            "WHERE r.kiosk_id = :k AND ((r.seq = 1 AND r.prev_hash != :genesis) "
            "OR (p.seq IS NOT NULL AND r.prev_hash != p.hash)) ORDER BY r.install_id, r.seq"),
            {"k": kiosk_id, "genesis": "0" * 64}).all()
        events = conn.execute(select(integrity_events).where(
            integrity_events.c.kiosk_id == kiosk_id).order_by(integrity_events.c.id)).mappings().all()
        quarantined = conn.execute(select(func.count()).select_from(quarantine).where(
            quarantine.c.kiosk_id == kiosk_id)).scalar()
        counts = dict(conn.execute(select(responses.c.install_id, func.count()).where(
            responses.c.kiosk_id == kiosk_id).group_by(responses.c.install_id)).all())
        chains = conn.execute(select(installs).where(installs.c.kiosk_id == kiosk_id)
                              .order_by(installs.c.first_seen_utc)).mappings().all()
    derived = [{"kind": "gap", "install_id": i, "seq_from": a, "seq_to": b,
                "detail": f"Responses #{a}–#{b} have not been received." if a != b
                else f"Response #{a} has not been received."} for i, a, b in gaps]
    derived += [{"kind": "broken_link", "install_id": i, "seq_from": seq - 1, "seq_to": seq,
                 "detail": f"Response #{seq} does not chain to response #{seq - 1}."} for i, seq in links]
    recorded = [{"kind": e["kind"], "install_id": e["install_id"], "seq_from": e["seq"], "seq_to": e["seq"],
                 "detail": e["detail"], "recorded_utc": e["recorded_utc"]} for e in events]
    stores = [{"install_id": c["install_id"], "parent_id": c["parent_id"], "from_seq": c["from_seq"],
               "first_seen_utc": c["first_seen_utc"], "last_batch_utc": c["last_batch_utc"],
               "responses": counts.get(c["install_id"], 0), "concurrent_with": c["concurrent_with"]}
              for c in chains]
    return {"kiosk": kiosk_id, "responses": stored[0], "highest_seq": stored[1],
            "quarantined": quarantined, "installs": stores, "events": derived + recorded}
