"""When one member of a training run changes its learning rate or stops: the book's schedule,
early stopping, divergence.  Host-side bookkeeping, one ``Tracker`` per member.

    Tracker(eta)                           a member starting at learning rate ``eta``
    tracker.observe(accuracy, epoch, early_stopping=None, schedule=None) -> None
        after each epoch, with the evaluation accuracy (None when not measured):
        schedule=n          halve eta after n epochs without improvement; stop once eta has
                            fallen to 1/128 of its start (the book's rule, chapter 3)
        early_stopping=n    stop after n epochs without improvement ("no-improvement-in-n")
    tracker.diverged(epoch, eta)           stop: the parameters became NaN or infinite
    tracker.stop(reason)                   stop for another reason (a callback)
    tracker.stop_reason                    None while the member trains
    tracker.to_dict() / Tracker.from_dict(d)    for checkpoints
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["Tracker"]


@dataclass
class Tracker:
    eta: float                        # the learning rate for the next epoch
    start_eta: float = None           # the schedule's start (defaults to eta)
    best_accuracy: float = -1.0       # best evaluation accuracy so far
    since_best: int = 0               # epochs without improvement (early stopping)
    since_change: int = 0             # ... since eta last changed (schedule)
    halvings: int = 0
    stop_reason: str | None = None

    def __post_init__(self):
        if self.start_eta is None:
            self.start_eta = self.eta

    def observe(self, accuracy, epoch, early_stopping=None, schedule=None) -> bool:
        """Update after ``epoch``; True when eta changed."""
        if accuracy is None or not (early_stopping or schedule):
            return False
        if accuracy > self.best_accuracy:
            self.best_accuracy, self.since_best, self.since_change = accuracy, 0, 0
        else:
            self.since_best += 1
            self.since_change += 1
        changed = False
        if schedule and self.since_change >= schedule:
            self.eta, self.halvings, self.since_change = self.eta / 2, self.halvings + 1, 0
            changed = True
            if self.eta <= self.start_eta / 128 * (1 + 1e-12):
                self.stop(f"learning rate fell to 1/128 of its start ({self.eta:g}) after "
                          f"epoch {epoch}")
        if early_stopping and self.since_best >= early_stopping:
            self.stop(f"no improvement in evaluation accuracy for {early_stopping} epochs "
                      f"(best {self.best_accuracy:g}) after epoch {epoch}")
        return changed

    def diverged(self, epoch, eta) -> None:
        self.stop(f"diverged in epoch {epoch}: the parameters became NaN or infinite with "
                  f"eta = {eta:g}; the last finite parameters (from before that epoch) are "
                  "kept. The learning rate is too high for this network: try eta / 10 "
                  "(chapter 3: find the threshold where the cost starts to oscillate, and "
                  "use half of it)")

    def stop(self, reason) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d) -> "Tracker":
        return cls(**d)
