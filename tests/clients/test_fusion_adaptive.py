"""The adaptive concurrency of an extraction: the pure AIMD rule, and the gate that applies it."""

import threading

import pytest

from oracle_mailchimp_dagster.fusion.adaptive import AdaptiveConcurrency, ConcurrencyGate, GateClosed


def healthy(controller: AdaptiveConcurrency, n: int, seconds: float | None = None) -> None:
    for _ in range(n):
        controller.finished(controller.start(), seconds)


def test_it_starts_at_the_maximum_and_halves_when_throttled() -> None:
    controller = AdaptiveConcurrency(8)
    assert controller.limit == 8
    assert controller.throttled(controller.start()) is True
    assert controller.limit == 4
    assert controller.throttled(controller.start()) is True
    assert controller.limit == 2
    assert (controller.backoffs, controller.lowest) == (2, 2)


def test_requests_in_flight_when_trouble_began_cause_one_decrease_not_one_each() -> None:
    controller = AdaptiveConcurrency(8)
    tickets = [controller.start() for _ in range(8)]  # eight requests sent at once, all throttled
    decreased = [controller.throttled(ticket) for ticket in tickets]
    assert decreased == [True] + [False] * 7
    assert controller.limit == 4
    assert controller.throttled(controller.start()) is True, "a request sent after the decrease counts"
    assert controller.limit == 2


def test_it_never_goes_below_the_minimum() -> None:
    controller = AdaptiveConcurrency(4, minimum=2)
    for _ in range(5):
        controller.throttled(controller.start())
    assert controller.limit == 2 and controller.lowest == 2
    one = AdaptiveConcurrency(1)
    assert one.throttled(one.start()) is False and one.limit == 1 and one.backoffs == 0


def test_it_recovers_one_step_per_run_of_healthy_pages() -> None:
    controller = AdaptiveConcurrency(4, recover_per_step=3)
    controller.throttled(controller.start())
    controller.throttled(controller.start())
    assert controller.limit == 1
    healthy(controller, 2)
    assert controller.limit == 1, "3 x 1 healthy pages are needed at limit 1"
    healthy(controller, 1)
    assert controller.limit == 2
    healthy(controller, 5)
    assert controller.limit == 2, "3 x 2 at limit 2"
    healthy(controller, 1)
    assert controller.limit == 3
    healthy(controller, 100)
    assert controller.limit == 4, "never above the maximum"
    assert controller.recoveries == 3


def test_a_throttle_restarts_the_healthy_run() -> None:
    controller = AdaptiveConcurrency(4, recover_per_step=2)
    controller.throttled(controller.start())
    assert controller.limit == 2
    healthy(controller, 3)
    controller.throttled(controller.start())
    assert controller.limit == 1
    healthy(controller, 1)
    assert controller.limit == 1
    healthy(controller, 1)
    assert controller.limit == 2


def test_a_markedly_slow_page_backs_off_once_the_usual_is_known() -> None:
    controller = AdaptiveConcurrency(4)
    assert controller.finished(controller.start(), 9.0) is False, "no judgement before the warm-up"
    controller = AdaptiveConcurrency(4)
    healthy(controller, 3, 0.8)
    assert controller.usual_seconds == pytest.approx(0.8)
    assert controller.finished(controller.start(), 2.0) is False, "2.5x the usual is not markedly slow"
    assert controller.limit == 4
    assert controller.finished(controller.start(), 6.0) is True
    assert controller.limit == 2


def test_a_slow_page_must_also_be_slower_by_a_margin() -> None:
    controller = AdaptiveConcurrency(4)
    healthy(controller, 5, 0.01)
    assert controller.finished(controller.start(), 0.9) is False, "90x, but under a second more"
    assert controller.limit == 4
    assert controller.finished(controller.start(), 1.2) is True


def test_a_pod_that_stays_slower_becomes_the_usual() -> None:
    controller = AdaptiveConcurrency(4, recover_per_step=1)
    healthy(controller, 3, 0.5)
    slow = [controller.finished(controller.start(), 3.0) for _ in range(30)]
    assert slow[0] is True
    assert not any(slow[-10:]), "after a while 3 s is the usual"
    assert controller.limit == 4, "and the limit has recovered"


def test_the_gate_keeps_in_flight_within_the_limit_and_reports() -> None:
    controller = AdaptiveConcurrency(3)
    gate = ConcurrencyGate(controller)
    tickets = [gate.enter() for _ in range(3)]
    entered = threading.Event()

    def fourth() -> None:
        gate.leave(gate.enter(), throttled=False)
        entered.set()

    waiter = threading.Thread(target=fourth)
    waiter.start()
    assert not entered.wait(0.1), "a fourth request waits while three are in flight"
    gate.leave(tickets[0], throttled=True)  # the limit drops to 1: still two in flight
    assert not entered.wait(0.1)
    gate.leave(tickets[1], throttled=False)
    assert not entered.wait(0.1)
    gate.leave(tickets[2], throttled=False)
    assert entered.wait(5)
    waiter.join(5)
    report = gate.report()
    assert (report.maximum, report.limit, report.lowest, report.backoffs) == (3, 1, 1, 1)
    assert report.peak_in_flight == 3


def test_closing_the_gate_wakes_the_waiting() -> None:
    gate = ConcurrencyGate(AdaptiveConcurrency(1))
    gate.enter()
    failures: list[BaseException] = []

    def wait() -> None:
        try:
            gate.enter()
        except GateClosed as exc:
            failures.append(exc)

    waiter = threading.Thread(target=wait)
    waiter.start()
    gate.close()
    waiter.join(5)
    assert not waiter.is_alive() and len(failures) == 1
    with pytest.raises(GateClosed):
        gate.enter()


def test_bounds_are_checked() -> None:
    with pytest.raises(ValueError):
        AdaptiveConcurrency(2, minimum=3)
    with pytest.raises(ValueError):
        AdaptiveConcurrency(0)
