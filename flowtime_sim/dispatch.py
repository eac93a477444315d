"""One way to call hooks: every implementation runs guarded, and every result names its plugin.

:class:`GuardedPluginManager` is a :class:`pluggy.PluginManager` whose ``_hookexec`` wraps each
implementation before pluggy's own caller runs it, so that argument subsets, ``wrapper=True``
implementations, call order and tracing all stay pluggy's. A guarded implementation turns an
unexpected exception into a :class:`~flowtime_sim.errors.PluginError` naming its plugin and the
hook, and records which plugin returned which result. :meth:`GuardedPluginManager.collect`
calls a collect-all hook with each implementation isolated (a failure costs only that plugin);
:meth:`GuardedPluginManager.first` calls a firstresult hook.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import pluggy
from pluggy import HookImpl

from flowtime_sim.errors import FlowtimeError, PluginError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class HookResult(Generic[T]):
    """One implementation's result, with the plugin (entry-point name) that returned it."""

    plugin: str
    value: T


@dataclass(slots=True)
class Collected(Generic[T]):
    """What a collect-all hook gave: the results in call order and the plugins that failed."""

    results: list[HookResult[T]] = field(default_factory=list)
    failures: list[PluginError] = field(default_factory=list)


@dataclass(slots=True)
class _Call:
    hook: str
    isolate: bool
    returned: list[tuple[str, object]] = field(default_factory=list)
    failures: list[PluginError] = field(default_factory=list)


_ACTIVE: ContextVar[_Call | None] = ContextVar("flowtime_sim_hook_call", default=None)
_RUNNING: ContextVar[str | None] = ContextVar("flowtime_sim_running_plugin", default=None)


def running_plugin() -> str | None:
    """The plugin whose hook implementation is running (for problems it reports without
    failing, such as one unreadable template manifest among many)."""
    return _RUNNING.get()


def describe(exc: BaseException) -> str:
    """An exception as a reason: the message alone when it was written for users, else its
    type and message (``KeyboardInterrupt`` alone when it has none)."""
    if isinstance(exc, FlowtimeError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class GuardedPluginManager(pluggy.PluginManager):
    """A pluggy manager that guards and attributes every hook implementation it calls."""

    def __init__(self, project_name: str) -> None:
        super().__init__(project_name)
        self._guarded: dict[int, tuple[HookImpl, HookImpl]] = {}

    def _hookexec(
        self,
        hook_name: str,
        methods: Sequence[HookImpl],
        kwargs: Mapping[str, object],
        firstresult: bool,
    ) -> object | list[object]:
        guarded = [self._guard(hook_name, impl) for impl in methods]
        return super()._hookexec(hook_name, guarded, kwargs, firstresult)

    def _guard(self, hook_name: str, impl: HookImpl) -> HookImpl:
        if impl.wrapper or impl.hookwrapper:
            return impl  # a wrapper's failure surfaces through the call itself (see _attribute)
        cached = self._guarded.get(id(impl))
        if cached is not None and cached[0] is impl:
            return cached[1]
        plugin, function = impl.plugin_name, impl.function

        @functools.wraps(function)
        def guarded(*args: object) -> object:
            call = _ACTIVE.get()
            mine = call is not None and call.hook == hook_name
            running = _RUNNING.set(plugin)
            try:
                result = function(*args)
            except PluginError:
                raise
            except (Exception, SystemExit) as exc:
                isolated = call is not None and mine and call.isolate
                if isinstance(exc, FlowtimeError) and not isolated:
                    raise  # a user error a hook raises on purpose (e.g. invalid parameters)
                error = PluginError(
                    f"plugin {plugin!r}: {hook_name} failed: {describe(exc)}",
                    pack=plugin,
                    hook=hook_name,
                )
                if isolated and call is not None:
                    call.failures.append(error)
                    return None
                raise error from exc
            finally:
                _RUNNING.reset(running)
            if mine and call is not None:
                call.returned.append((plugin, result))
            return result

        wrapped = HookImpl(impl.plugin, plugin, guarded, impl.opts)
        self._guarded[id(impl)] = (impl, wrapped)
        return wrapped

    def _caller(self, hook: str) -> Callable[..., object]:
        caller = getattr(self.hook, hook, None)
        if caller is None:
            raise LookupError(f"no hook named {hook!r}")
        return caller  # type: ignore[no-any-return]

    def collect(self, hook: str, **kwargs: object) -> Collected[object]:
        """Call a collect-all hook; each failing implementation is recorded, not raised."""
        caller = self._caller(hook)
        call = _Call(hook, isolate=True)
        token = _ACTIVE.set(call)
        try:
            values = caller(**kwargs)
        except PluginError as exc:
            return Collected([], [*call.failures, exc])
        except (Exception, SystemExit) as exc:
            return Collected([], [*call.failures, self._wrapper_failure(hook, exc)])
        finally:
            _ACTIVE.reset(token)
        assert isinstance(values, list)
        results = [HookResult(self._attribute(hook, call, v), v) for v in values]
        return Collected(results, call.failures)

    def first(self, hook: str, **kwargs: object) -> HookResult[object] | None:
        """Call a firstresult hook: the first non-None result and its plugin, or ``None``.

        A user error raised on purpose passes through; anything else a plugin raises becomes a
        :class:`PluginError` naming it and the hook.
        """
        caller = self._caller(hook)
        call = _Call(hook, isolate=False)
        token = _ACTIVE.set(call)
        try:
            value = caller(**kwargs)
        except FlowtimeError:
            raise
        except (Exception, SystemExit) as exc:
            raise self._wrapper_failure(hook, exc) from exc
        finally:
            _ACTIVE.reset(token)
        return None if value is None else HookResult(self._attribute(hook, call, value), value)

    def only(self, plugin: str, hook: str, **kwargs: object) -> object:
        """Call one plugin's implementation of ``hook`` (what ``doctor`` checks): its result,
        or the :class:`PluginError` it raised (user errors included, as they name nothing)."""
        others = [p for name, p in self.list_name_plugin() if name != plugin]
        caller = self.subset_hook_caller(hook, remove_plugins=others)
        call = _Call(hook, isolate=True)
        token = _ACTIVE.set(call)
        try:
            value = caller(**kwargs)
        except (Exception, SystemExit) as exc:
            return exc if isinstance(exc, PluginError) else self._wrapper_failure(hook, exc)
        finally:
            _ACTIVE.reset(token)
        return call.failures[0] if call.failures else value

    def _wrappers(self, hook: str) -> list[str]:
        return [
            i.plugin_name
            for i in getattr(self.hook, hook).get_hookimpls()
            if i.wrapper or i.hookwrapper
        ]

    def _attribute(self, hook: str, call: _Call, value: object) -> str:
        for plugin, returned in call.returned:
            if returned is value:
                return plugin
        # not returned by a plain implementation: a wrapper made or replaced it
        return ", ".join(self._wrappers(hook)) or "?"

    def _wrapper_failure(self, hook: str, exc: BaseException) -> PluginError:
        plugin = ", ".join(self._wrappers(hook)) or "?"
        return PluginError(
            f"plugin {plugin!r}: {hook} failed: {describe(exc)}", pack=plugin, hook=hook
        )
