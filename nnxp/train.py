"""The one training path: every front end (Network.SGD and resume, Population.SGD and resume,
nnxp.compat, the scikit-learn estimator through Network) trains by calling ``fit``; none
assembles plan, state, transform, mesh and checkpoints itself.

    fit(spec, params, plan, optimizer, train_set, eval_set=None, *, backend, dtype,
        members=None, resume=None, histories=None, stream=None, orders=None, engine=None,
        devices=None, hold=None, after_epoch=None, progress=None, checkpoint=None, seed=None,
        masks=None) -> (params, opt_state, state, histories)
    resumable(saved, where, train_set, eval_set, backend, *, epochs=None, other_data=False)
        -> saved           a checkpoint's (plan, state, leaves, histories), checked against
                           the data given and ready for ``fit(resume=...)``
    Resumable          the shells' ``resume`` (Network, Population derive from it)

``spec`` is a core.Spec; ``params`` its tuple of arrays per layer on ``backend`` (a leading member
axis K when ``members=K``; None for one network); ``plan, optimizer`` come from
plan.make_plan; ``train_set``/``eval_set`` are prepared Datasets (data.prepare) on
``backend``, in ``dtype``.  It returns the parameters and optimizer state on ``backend``, the
loop.RunState (epochs done, trackers, shuffling stream) and one History per member.

  resume       None: a fresh run (the optimizer's initial state, trackers at the plan's eta,
               empty histories); or a checkpoint's ``(plan, state, leaves, histories)`` from
               ``resumable``: the optimizer state is rebuilt from the saved leaves with this
               run's hyper-parameters but eta (weight decay depends on the data's size), and
               the histories go on.  ``histories``: a fresh run's K empty Histories, given
               when the shell shows them while training (None: new ones)
  stream       the Generator that ``shuffle=True`` draws each epoch's order from (the shell's
               own stream); ``shuffle=seed`` draws from ``default_rng(seed)``, ``shuffle=False``
               keeps the given order; a resumed run continues the saved stream.
               ``orders(epoch) -> host permutation`` replaces all of this (nnxp.compat)
  masks        dropout (a layer with p_dropout > 0): the Generator of the network's masks
               (the shell's own stream, which goes on from one call to the next), or a list
               of K, one per member; None: ``default_rng(masks.mask_seed(s))`` for each seed
               ``s`` of ``seed`` (one network's, or the K members').  A resumed run continues
               the saved streams (``state.mask_states``), as it does the shuffling stream.
               Refused with ``devices=`` (masks.py, engines/jax_mesh.py)
  engine       an Engine (None: ``engine_for(backend, spec, plan.engine)``)
  devices      JAX: a number or a list of devices (Backend.with_devices): parameters,
               optimizer state and data move to the mesh for the run and come back after it
  hold(backend, params, opt_state)    the shell's view of the run: called after the move to
               a mesh, after every epoch, and at the end (back on ``backend``, also when
               training raised), so callbacks see the shell whole
  after_epoch(records, active) -> the members to stop: None, a list of indices, or a dict
               {index: reason} (the reason defaults to "stopped by a callback after epoch e")
  progress(records, active)           prints an epoch
  checkpoint   a path: after every epoch the whole run (parameters, plan, state, optimizer
               state, histories) is written there atomically (checkpoint.run_file, with the
               network's ``seed`` or the members' seeds); a failed write raises FileError
               carrying ``.history`` (the History, or the list of K)
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from .checkpoint import check_resume, data_fingerprint, run_file
from .engines import engine_for
from . import checks, core
from .errors import ConfigError, FileError, NNXPError
from .files import atomic_write_text, check_writable
from .history import History, dumps
from .loop import fresh_state, run
from .masks import ON_A_MESH, MaskStream, has_dropout, mask_seed
from .optimizers import hyper_of, optimizer_from, set_hyper, tree_leaves, tree_unflatten
from .plan import Plan, check_batches, transform_for

__all__ = ["fit", "resumable", "Resumable"]

_PLAN_SHORTHANDS = {"momentum", "nesterov", "early_stopping_n"}


def fit(spec, params, plan, optimizer, train_set, eval_set=None, *, backend, dtype,
        members=None, resume=None, histories=None, stream=None, orders=None, engine=None,
        devices=None, hold=None, after_epoch=None, progress=None, checkpoint=None, seed=None,
        masks=None):
    """Train ``params`` by ``plan`` (see the module docstring)."""
    path = None if checkpoint is None else check_writable(checkpoint, "checkpoint")
    k = members or 1
    transform = transform_for(plan, optimizer, train_set.n, members=members)
    with backend.device_scope():
        opt_state = transform.init(params)
    if resume is None:
        etas = [0.0] * k if callable(plan.eta) else checks.each(plan.eta, k)
        state = fresh_state(etas)
        histories = [History() for _ in range(k)] if histories is None else histories
        state.n_train = train_set.n
        if path is not None:
            state.data = data_fingerprint(train_set, backend)
    else:
        _, state, leaves, histories = resume
        opt_state = _restored(backend, dtype, opt_state, leaves)
    masks = _mask_stream(spec, masks, seed, members, state, devices)
    rng = _order_rng(plan, state, stream) if orders is None else None
    if orders is None:
        def orders(epoch):
            return None if rng is None else rng.permutation(train_set.n)
    home, hold = backend, hold or (lambda *view: None)
    if devices is not None:
        backend = home.with_devices(devices, members=members,
                                    mini_batch_size=plan.mini_batch_size)
        params, opt_state = backend.place(params), backend.place(opt_state)
        train_set, eval_set = backend.place_data(train_set), backend.place_data(eval_set)
        hold(backend, params, opt_state)
    last = [params, opt_state]

    def after(records, active, new_params, new_opt_state):
        last[:] = new_params, new_opt_state
        hold(backend, new_params, new_opt_state)
        if after_epoch is not None:
            _stop(state, after_epoch(records, active), records[0]["epoch"])

    def save(new_params, new_opt_state):
        state.rng_state = None if rng is None else rng.bit_generator.state
        state.mask_states = None if masks is None else masks.states()
        host = core.to_host(backend, new_params)
        leaves = [backend.to_numpy(a) for a in tree_leaves(new_opt_state)]
        for history in histories:   # as the callbacks may have left them
            history.check_savable("checkpoint", done=state.epoch)
        d = run_file(spec, host, dtype, seed, plan, state, leaves, histories, members)
        try:
            atomic_write_text(path, dumps(d, "checkpoint"), what="checkpoint")
        except FileError as exc:
            exc.history = histories[0] if members is None else histories
            raise

    try:
        params, opt_state = run(
            engine or engine_for(backend, spec, plan.engine), transform, params, opt_state,
            plan, state, histories, train_set, eval_set, backend=backend, dtype=dtype,
            members=members, orders=orders, after_epoch=after,
            save=None if path is None else save, progress=progress, masks=masks)
        last[:] = params, opt_state
    finally:
        state.rng_state = None if rng is None else rng.bit_generator.state
        state.mask_states = None if masks is None else masks.states()
        if backend is not home:
            last[:] = backend.home_tree(last[0]), backend.home_tree(last[1])
        hold(home, *last)
    return last[0], last[1], state, histories


def _restored(backend, dtype, fresh, leaves):
    """The saved optimizer-state ``leaves`` (host arrays) in the structure of ``fresh``; the
    hyper-parameters but eta (decay, l1, the optimizer's own) are this run's."""
    with backend.device_scope():
        saved = tree_unflatten(fresh, [backend.asarray(a, dtype) for a in leaves])
    return set_hyper(saved, **{k: v for k, v in hyper_of(fresh).items() if k != "eta"})


def _mask_stream(spec, rngs, seed, members, state, devices):
    """The run's masks.MaskStream (see ``masks`` in the module docstring), or None without
    dropout."""
    if not has_dropout(spec):
        return None
    if devices is not None:
        raise ConfigError(ON_A_MESH)
    if rngs is None:
        seeds = seed if members is not None else [seed]
        if seeds is None or None in seeds:
            raise ConfigError("a network with dropout draws its masks from its seed: give fit "
                              "seed= (one network's, or the K members') or masks=")
        rngs = [np.random.default_rng(mask_seed(s)) for s in seeds]
    elif members is None:
        rngs = [rngs]
    stream = MaskStream(spec, rngs, members)
    if state.epoch and state.mask_states is None:
        raise ConfigError("this checkpoint of a network with dropout holds no dropout "
                          "streams (state.mask_states), so its run cannot go on exactly; "
                          "load it as a network and train on")
    if state.mask_states is not None:  # resuming: continue the saved streams
        stream.restore(state.mask_states)
    return stream


def _order_rng(plan, state, stream):
    """The Generator of the epochs' orders (see the module docstring), or None."""
    if plan.shuffle is False:
        return None
    rng = stream if plan.shuffle is True and stream is not None \
        else np.random.default_rng(None if plan.shuffle is True else plan.shuffle)
    if state.rng_state is not None:  # resuming: continue the saved stream
        rng.bit_generator.state = state.rng_state
    return rng


def _stop(state, stops, epoch) -> None:
    if not stops:
        return
    reasons = stops if isinstance(stops, dict) else dict.fromkeys(stops)
    for k, reason in reasons.items():
        state.trackers[k].stop(reason or f"stopped by a callback after epoch {epoch}")


def resumable(saved, where, train_set, eval_set, backend, *, epochs=None, other_data=False):
    """A checkpoint's run (plan, state, leaves, histories) made ready to go on with these data:
    checked (checkpoint.check_resume: size, fingerprint, counts), ``epochs`` the run's new
    total, and a stop a callback decided cleared (it was the caller's decision, not the run's)."""
    plan, state, leaves, histories = saved
    fingerprint = data_fingerprint(train_set, backend)
    check_resume(where, state, epochs, train_set, eval_set, fingerprint, other_data)
    check_batches(plan, train_set.n)  # other data may have fewer mini-batches than monitor_every
    if epochs is not None:
        plan.epochs = epochs
    state.n_train, state.data = train_set.n, fingerprint
    for tracker in state.trackers:
        if tracker.stop_reason and tracker.stop_reason.startswith("stopped by a callback"):
            tracker.stop_reason = None
    return plan, state, leaves, histories


class Resumable:
    """``resume`` for a shell loaded from a checkpoint.  The shell holds ``checkpoint`` (plan,
    state, leaves, and its History or list of K), ``source`` (the file), ``backend``,
    ``dtype``, ``params``, ``optimizer_state``, ``_resume_options`` (the names ``resume``
    passes on to ``_fit``; others are a ConfigError), and defines ``prepare(data, name)``,
    ``_fit(plan, optimizer, train_set, eval_set, resume, **options)``, ``_load(path, dtype)``
    and ``_loader`` (its loader's name, for messages); it calls ``_leave_run()`` before its
    parameters change otherwise (SGD, new weights), after which ``resume`` is refused; setting
    ``params`` itself does the same (``_hold_run`` keeps the run's parameters by identity)."""

    def resume(self, training_data, evaluation_data=None, *, checkpoint=None, epochs=None,
               other_data=False, engine=None, **options):
        """Continue the training run of the checkpoint this was loaded from, on the same data
        (checked by size and fingerprint: checkpoint.py; ``other_data=True`` continues on
        other data on purpose), to the end it was given.  ``epochs=`` is the run's new total,
        not a number of further epochs (fewer than are done is refused).  ``engine=`` goes on
        with another of the backend's engines (a run trained with JAX's "jax" engine resumes
        on NumPy with engine="plain"); None keeps the run's own, which the checkpoint holds.
        Engines compute the same step, to rounding.  It saves to
        ``checkpoint`` if given, else back to the file it was loaded from.  ``options``:
        SGD's ``callbacks``, ``progress``, ``devices`` (and a Network's ``health``).  Returns
        the whole run's History (a Population: one per member).
        >>> nnxp.load("run.json").resume((X, y), (Xv, yv))  # doctest: +SKIP"""
        if self.checkpoint is not None and getattr(self, "_run_params", None) is not self.params:
            self._leave_run()  # net.params was set since: other parameters than the run's
        if self.checkpoint is None:
            what = type(self).__name__.lower()
            if getattr(self, "_left_run", None) is not None:
                raise ConfigError(f"this {what} was loaded from {self._left_run!r}, then its "
                                  f"parameters were changed (SGD, new weights, params set): "
                                  f"resuming would go on with that run's plan and optimizer "
                                  f"state from other parameters, and overwrite its file; load "
                                  f"the file again ({self._loader}) to resume that run")
            raise ConfigError(f"this {what} was not loaded from a checkpoint; train it with SGD "
                              f"(checkpoint=path) and load it with {self._loader}(path) to "
                              "resume")
        self._check_options(options)
        plan, state, leaves, history = self.checkpoint
        engine = checks.engine(engine)
        if engine is not None and engine not in self.backend.engines:
            raise ConfigError(f"engine={engine!r}: the {self.backend.name} backend offers "
                              f"{', '.join(self.backend.engines)}")
        if engine is None and plan.engine is not None and \
                plan.engine not in self.backend.engines:
            raise ConfigError(f"this run was trained with engine={plan.engine!r}, which its "
                              f"checkpoint keeps, and the {self.backend.name} backend does not "
                              f"offer it (it has {', '.join(self.backend.engines)}): resume it "
                              f"with one of those (resume(..., engine=...)), or on a backend "
                              f"that offers it (NNXP_BACKEND)")
        if epochs is not None:
            epochs = checks.number("epochs", epochs, strict=False, integer=True)
        other_data = checks.flag("other_data", other_data)
        if evaluation_data is None and plan.needs_evaluation():
            raise ConfigError("this run monitors evaluation data: pass evaluation_data to resume")
        train_set = self.prepare(training_data, "training_data")
        eval_set = (None if evaluation_data is None
                    else self.prepare(evaluation_data, "evaluation_data"))
        histories = history if isinstance(history, list) else [history]
        path = checkpoint if checkpoint is not None else self.source
        check_writable(path, "checkpoint")  # before resumable() changes the run in memory
        saved = resumable((plan, state, leaves, histories), self.source, train_set, eval_set,
                          self.backend, epochs=epochs, other_data=other_data)
        if engine is not None:
            plan.engine = engine  # the run goes on (and is saved) with the engine asked for
        try:
            self._fit(plan, optimizer_from(plan.optimizer), train_set, eval_set, saved,
                      checkpoint=path, **options)
        except FileError as exc:  # a save failed at the end of an epoch: all is consistent
            if getattr(exc, "history", None) is not None and self.optimizer_state is not None:
                self._resumable(plan, state, history)
            raise
        except BaseException:  # Ctrl-C, a callback's error ...: maybe mid-epoch
            self._rewind(path)
            raise
        self._resumable(plan, state, history)
        return history

    def _leave_run(self) -> None:
        """The parameters are about to change outside the loaded run (a new SGD run, new
        weights): it can no longer be resumed from them."""
        if getattr(self, "checkpoint", None) is not None:
            self.checkpoint, self._left_run = None, self.source

    def _check_options(self, options) -> None:
        """``resume``'s options are the shell's ``_resume_options``; a plan's argument
        (mini_batch_size, eta, ...) is refused by name: the run goes on with its own plan."""
        what = f"{type(self).__name__}.resume"
        planned = sorted(set(options) & ({f.name for f in fields(Plan)} | _PLAN_SHORTHANDS))
        if planned:
            raise ConfigError(f"{what} goes on with the run's own plan, as its checkpoint holds "
                              f"it ({', '.join(planned)} included); it takes "
                              f"{', '.join(self._resume_options)} (and epochs=, the new "
                              f"total). To train with another {planned[0]}, load the file and "
                              f"call SGD")
        checks.unknown(what, options, self._resume_options)

    def _resumable(self, plan, state, history) -> None:
        """Resumable again, from where the shell is now (the end of an epoch)."""
        leaves = [self.backend.to_numpy(a) for a in tree_leaves(self.optimizer_state)]
        self._hold_run((plan, state, leaves, history))

    def _hold_run(self, checkpoint) -> None:
        """Resumable from ``checkpoint`` with the parameters as they are now: setting
        ``params`` afterwards (a new object) leaves the run (``resume`` checks identity)."""
        self.checkpoint, self._run_params = checkpoint, self.params

    def _rewind(self, path) -> None:
        """After an interrupted resume, the parameters and the run as the last file saved
        holds them (``path``, else the file it was loaded from): the state in memory may be
        part of an epoch ahead of it, and resuming again must go on exactly from the file."""
        shapes = [tuple(a.shape) for layer in self.params for a in layer]
        for where in (path, self.source):
            try:
                saved = self._load(where, self.dtype)
            except NNXPError:
                continue
            if saved.checkpoint is not None and \
                    [tuple(a.shape) for layer in saved.params for a in layer] == shapes:
                self.params = core.to_device(
                    self.backend, core.to_host(saved.backend, saved.params), self.dtype)
                self._hold_run(saved.checkpoint)
                self.optimizer_state = None
                return
        self.checkpoint = None  # nothing to go back to: resuming again is refused
