"""Consul's ``?filter=`` expression language, as the dev agent evaluates it.

Consul evaluates ``?filter=`` with hashicorp/go-bexpr, pinned at **v0.1.2**: Consul's ``go.mod``
lists ``github.com/hashicorp/go-bexpr v0.1.2`` (checked up to the 1.16 line) and the
BUSL-licensed sources of later releases still call ``bexpr.CreateFilter(expr, nil, dataType)``,
a signature that later go-bexpr releases reduced to ``CreateFilter(expr)`` (``matches`` arrived
with the v0.1.1 update, hashicorp/consul#6190). This package re-implements v0.1.2 in pure Python,
so that the dev agent accepts, rejects and evaluates filters the way a real agent does:

* the grammar is go-bexpr's ``grammar.peg``, run by an interpreter that keeps the bookkeeping of
  the pigeon-generated parser (farthest-failure position, the sorted "expected" set, rule display
  names, errors recorded by ``&{...}`` code blocks and by actions, "invalid encoding"). Parse
  errors therefore read exactly like Consul's, for example
  ``Failed to create boolean expression evaluator: 1:4 (3): no match found, expected: "!=", ".",
  "==", "[", [ \\t\\r\\n] or [a-zA-Z0-9_]`` for ``foo`` (hashicorp/consul issue 7338).
* ``fields=`` takes the field schema of the Go type an endpoint filters (the element type of the
  slice or map it returns). With it, compilation validates the expression the way
  ``Evaluator.validate`` does in v0.1.2, against the field configurations that
  ``generateFieldConfigurations`` derives from the Go type: ``Selector "Foo" is not valid``,
  ``Invalid match operator "In" for selector "Port"``, ``Failed to coerce value ...`` and
  ``Failed to compile regular expression ...`` all come out as Consul words them, and evaluation
  gives absent struct fields their Go zero value. A schema is written with Go type names::

      {"Node": "string", "Port": "int", "Tags": ["string"], "Meta": {"*": "string"},
       "Weights": {"Passing": "int", "Warning": "int"}, "Checks": [{"Status": "string"}]}

  A ``str`` names a Go kind (``string``, ``bool``, ``int``, ``int8`` ... ``int64``, ``uint`` ...
  ``uint64``, ``float32``, ``float64``, ``any``; also ``[]T`` and ``map[string]T`` for those);
  a one-element list is a slice; ``{"*": T}`` is ``map[string]T``; any other mapping is a struct.
  ``any`` (``interface{}``) may only be a map or slice element: as a struct field go-bexpr panics,
  which is why Consul hides such fields with ``bexpr:"-"``.
* without ``fields=`` the expression is evaluated against whatever JSON it is given: a JSON
  object behaves like a ``map[string]...`` and a value's JSON type decides how the literal is
  coerced. That is the agent's fallback for data whose Go type it does not describe.

Evaluation follows v0.1.2's ``evaluateMatchExpressionRecurse``: a selector that passes through a
list matches when *any* element matches (so on an empty list every operator is false, ``!=`` and
``not in`` included); a missing map key makes ``==``, ``in`` and ``is not empty`` false and every
other operator true, ``matches`` included (fixed in go-bexpr v0.1.5, still there in v0.1.2);
``contains`` is ``in`` written the other way round; ``in`` is key membership on maps, element
equality on lists and substring search on strings. ``matches`` uses Go's RE2 syntax, translated
here to an equivalent Python pattern at compile time: ASCII ``\\d \\w \\s \\b``, ``$`` only at the
end of the text, flags that may change mid-pattern, ``{,n}`` as a literal, POSIX classes,
``\\Q...\\E``, and Go's error texts (``error parsing regexp: missing closing ): `(```).

Where the texts are approximations (everything else is byte-for-byte what v0.1.2 produces):

* regular-expression errors cover Go's syntax checks except the size limits (``expression too
  large``, ``expression nests too deeply``); Unicode *script* classes such as ``\\p{Greek}`` are
  valid in Go but cannot be evaluated here and raise an error that says so; ``(?i)`` case folding
  follows Python's rules, which differ from Go's for a handful of special characters (long s,
  Kelvin sign) inside negated classes.
* parentheses nested some 60 deep exhaust Python's recursion and are rejected with a message
  of our own; Consul accepts them (and, with no memoisation in its parser, may take exponential
  time). Chains of ``and``/``or`` have no such limit: they are parsed in a loop.
* without ``fields=``, Consul's own validation errors cannot occur: a literal that cannot be
  coerced to the JSON value's type simply does not compare equal (a JSON integer also compares
  with a float literal, since it may be a whole Go float64); a missing or ``null`` value is
  treated like a missing map key; ``is empty`` also applies to strings.
* with ``fields=``, a struct field is looked up under its own name in the JSON; go-bexpr's
  ``bexpr:"name"`` tags, which can expose a field under another name, are not modelled.

The package follows go-bexpr's own files: :mod:`.ast` (the expression tree), :mod:`.grammar`
(``grammar.peg`` and the pigeon parser that runs it), :mod:`.field_config` (field
configurations generated from a Go type: :class:`FieldSchema`), :mod:`.validate` (an
expression checked against them), :mod:`.evaluate` (the expression compiled into predicates),
:mod:`.coerce` (one coercion per Go kind), :mod:`.filter` (``CreateFilter``: :class:`Filter`,
:func:`compile_filter`) and :mod:`.errors` (:class:`FilterError` and Consul's message prefix);
with the parts of Go's standard library go-bexpr leans on: :mod:`.strconv` (``Unquote`` and
the ``Parse*`` functions) and :mod:`.regexp` (RE2 syntax translated to a Python pattern).
Import the public names from here: ``from aioconsul.testing.golang.bexpr import Filter``.

This package is pure: no I/O, no asyncio, no aiohttp; stdlib and the (equally pure) Go helpers
of ``golang.stdlib`` only. It must never know which endpoint it is filtering for, never mutate
the data it evaluates, and never do per-object work that can be done once per expression
(coercions and regular expressions are prepared in :func:`compile_filter`).
"""

from __future__ import annotations

from .errors import FilterError
from .field_config import FieldSchema, FieldSpec
from .filter import Filter, compile_filter

__all__ = ["FieldSchema", "FieldSpec", "Filter", "FilterError", "compile_filter"]
