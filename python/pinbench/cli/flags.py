"""A command-line flag as one table entry (``Flag``), and the two things done with entries: add
them to a parser, and read a parsed command line back as settings fields.

An entry names the settings field it fills by its dotted path (``RunSettings.measure.time``) and
takes its default from that field (``settings.default_at``): a default never appears twice. Its
help may show a default as ``{default}`` (its own) or ``{RunSettings.generation.prompt_tokens}``
(another field's). The table itself is ``cli.flag_table``.

Example::

    >>> import argparse
    >>> t = Flag(("-t", "--time"), "RunSettings.measure.time", "seconds measured ({default})")
    >>> p = argparse.ArgumentParser()
    >>> add_flags(p, [t])
    >>> fields_under("RunSettings", [t], p.parse_args([]))
    {'measure.time': 10.0}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..settings import default_at

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Collection, Iterable, Mapping


class _FromField:
    """The default of ``Flag.default``: the field's own."""

    def __repr__(self) -> str:
        return "FROM_FIELD"


FROM_FIELD: Any = _FromField()
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z_.]*)\}")


@dataclass(frozen=True)
class Flag:
    """One flag of the command line: its names, the settings field it fills (or, for a flag that
    fills none, ``own``: ``"command.what"``), and how argparse reads it.

    ``default`` is the field's unless the entry names another settings constant (the sweep's
    point time); ``words`` maps the flag's words to the values the field takes (``--spinning
    auto`` -> None), and are then its choices.
    """

    names: tuple[str, ...]  # option strings, or a positional's one name
    field: str | None = None  # "RunSettings.measure.time": the settings field it fills
    help: str | None = None  # {default} and {Class.field.path} show those defaults
    parse: Callable[[str], Any] | None = None  # argparse's type: a parser of cli.types
    metavar: str | None = None
    dest: str | None = None  # the attribute of the parsed arguments; None: argparse's rule
    action: str | type[argparse.Action] | None = None
    const: Any = None  # action="store_const"'s value
    nargs: str | None = None
    choices: Collection[str] | None = None  # a settings constant
    words: Mapping[str, Any] | None = None  # flag word -> the field's value (a settings constant)
    default: Any = FROM_FIELD  # a settings constant where the field's default is not the flag's
    own: str | None = None  # "pinbench.quiet": the key of a flag that fills no settings field
    exclusive: str | None = None  # flags of one name here: at most one of them may be given

    @property
    def key(self) -> str:
        """The entry's key in the table: its field path, or its ``own`` name."""
        key = self.field or self.own
        assert key is not None, self.names
        return key

    @property
    def positional(self) -> bool:
        return not self.names[0].startswith("-")

    @property
    def attr(self) -> str:
        """The attribute that holds its value after parsing (argparse's own rule for dest)."""
        if self.dest is not None:
            return self.dest
        longs = [n for n in self.names if n.startswith("--")]
        return (longs or list(self.names))[0].lstrip("-").replace("-", "_")

    def flag_default(self) -> Any:
        """The default as argparse holds it: a word for a flag with words; None for a flag that
        fills no field (argparse's own: None, or False for a switch)."""
        if self.default is not FROM_FIELD:
            value = self.default
        elif self.field is not None:
            value = default_at(self.field)
        else:
            return None
        if self.words is not None:
            return next(word for word, v in self.words.items() if v == value)
        return value

    def help_text(self) -> str | None:
        """The help with its defaults filled in."""
        if self.help is None:
            return None

        def fill(m: re.Match[str]) -> str:
            name = m.group(1)
            return shown(self.flag_default() if name == "default" else default_at(name))

        return _PLACEHOLDER.sub(fill, self.help)

    def add_to(self, parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
        """Adds the flag to ``parser`` (or a group of it), its default and choices filled in."""
        options: dict[str, Any] = {}
        if self.parse is not None:
            options["type"] = self.parse
        for name in ("metavar", "action", "nargs"):
            if getattr(self, name) is not None:
                options[name] = getattr(self, name)
        if self.action == "store_const":
            options["const"] = self.const
        choices = tuple(self.words) if self.words is not None else self.choices
        if choices is not None:
            options["choices"] = tuple(choices)
        help_text = self.help_text()
        if help_text is not None:
            options["help"] = help_text
        if not self.positional:
            options["dest"] = self.attr
            if self.field is not None:
                options["default"] = self.flag_default()
        parser.add_argument(*self.names, **options)

    def setting(self, args: argparse.Namespace) -> Any:
        """The value the field takes from the parsed arguments (settings hold tuples)."""
        value = getattr(args, self.attr)
        if self.words is not None:
            return self.words[value]
        return tuple(value) if isinstance(value, list) else value


def shown(value: object) -> str:
    """A default as help shows it: ``10.0`` -> ``10``, ``(1,)`` -> ``1``."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return ",".join(shown(v) for v in value)
    return str(value)


def add_flags(
    parser: argparse.ArgumentParser,
    flags: Iterable[Flag],
    title: str | None = None,
) -> None:
    """Adds ``flags`` to ``parser``, in an argument group of that title when one is given; the
    flags of one ``exclusive`` name in one mutually exclusive group."""
    target = parser.add_argument_group(title) if title else parser
    exclusive: dict[str, argparse._MutuallyExclusiveGroup] = {}
    for flag in flags:
        if flag.exclusive is None:
            flag.add_to(target)
        else:
            group = exclusive.get(flag.exclusive)
            if group is None:
                group = exclusive[flag.exclusive] = target.add_mutually_exclusive_group()
            flag.add_to(group)


def fields_under(root: str, flags: Iterable[Flag], args: argparse.Namespace) -> dict[str, Any]:
    """``{path below root: value}`` of every flag that fills a field under ``root``
    (``"RunSettings"``, ``"SweepSettings.base"``): what ``settings.with_fields`` takes."""
    prefix = root + "."
    return {
        flag.field[len(prefix) :]: flag.setting(args)
        for flag in flags
        if flag.field is not None and flag.field.startswith(prefix)
    }
