"""PartitionParking: when an idle partition stops being fetched, and for how long."""

from __future__ import annotations

from ma_dataplatforms_streaming_support_library.transport.kafka.parking import PartitionParking

P = ("topic", 0)
Q = ("topic", 1)


def parking() -> PartitionParking:
    return PartitionParking(grace_s=0.001, min_pause_s=0.001, max_pause_s=0.008)


def test_a_partition_still_at_its_end_after_the_grace_is_parked() -> None:
    lot = parking()
    lot.reached_end(P, 10, now=0.0)
    assert lot.to_park(0.0005, {P: 10}) == []  # grace not over
    assert lot.to_park(0.001, {P: 10}) == [P]
    lot.parked(P, 10, now=0.001)
    assert lot.is_parked(P)
    assert lot.to_resume(0.0015) == []
    assert lot.to_resume(0.002) == [P]
    assert not lot.is_parked(P)


def test_a_partition_that_got_a_record_during_the_grace_is_not_parked() -> None:
    lot = parking()
    lot.reached_end(P, 10, now=0.0)
    assert lot.to_park(0.002, {P: 11}) == []
    assert not lot


def test_the_pause_doubles_while_idle_up_to_the_maximum_and_resets_on_new_records() -> None:
    lot = parking()
    now = 0.0
    pauses = []
    for offset in (10, 10, 10, 10, 10, 12):
        lot.reached_end(P, offset, now)
        now += 0.001
        assert lot.to_park(now, {P: offset}) == [P]
        lot.parked(P, offset, now)
        until = lot.next_event(default=99.0)
        pauses.append(round(until - now, 6))
        assert lot.to_resume(until) == [P]
        now = until
    assert pauses == [0.001, 0.002, 0.004, 0.008, 0.008, 0.001]


def test_next_event_is_the_earliest_grace_or_pause_end() -> None:
    lot = parking()
    assert lot.next_event(default=5.0) == 5.0
    lot.reached_end(P, 1, now=1.0)
    lot.reached_end(Q, 1, now=0.5)
    assert lot.next_event(default=5.0) == 0.501


def test_forget_drops_a_partition_and_says_whether_it_was_parked() -> None:
    lot = parking()
    lot.reached_end(P, 3, now=0.0)
    assert lot.to_park(0.01, {P: 3}) == [P]
    lot.parked(P, 3, now=0.01)
    lot.reached_end(Q, 4, now=0.0)
    assert lot.forget(P) is True
    assert lot.forget(Q) is False
    assert not lot
