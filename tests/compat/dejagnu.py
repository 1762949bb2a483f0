# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""Reads the DejaGnu directives of a GCC test (`{ dg-do run }`, `{ dg-options "..." }`, ...)
and decides whether it is a standalone run test on x86_64 Linux with clang, and with which flags.

Only what a run test needs is modelled: dg-do, dg-options, dg-additional-options,
dg-additional-sources, dg-require-effective-target, dg-skip-if and their target selectors
(triplet globs, effective-target keywords, the C++ dialect keywords, ! && ||). Anything not
modelled makes the test skipped with that reason, never silently run with the wrong flags.
"""
import fnmatch
import re
import shlex

TRIPLET = "x86_64-pc-linux-gnu"
OPT_LEVEL = "-O1"

# Effective targets that hold for a clang-22 native x86_64 Linux build. Anything else
# (trampolines: clang has no nested functions; dfp; arm32; ilp32...) is false.
EFFECTIVE_TARGETS = {
    "alias", "alloca", "c99_runtime", "cet", "double64plus", "fileio", "fpic", "indirect_jumps",
    "int128", "int32", "int32plus", "label_values", "lp64", "longlong64", "mmap", "native",
    "nonlocal_goto", "pie", "pthread", "ptr32plus", "return_address", "signal", "size32plus",
    "sse", "sse_runtime", "stdint_types", "sync_int_long", "untyped_assembly", "weak",
}

# Options that change what a program means are passed on; GCC-only optimization switches,
# warnings, debug info and -O levels (every program is compiled at OPT_LEVEL) are dropped.
PASSED_OPTIONS = re.compile(
    r"^(-std=.*|-D.*|-U.*|-fwrapv|-fno-strict-overflow|-fgnu89-inline|-fno-inline"
    r"|-ffast-math|-fno-builtin.*|-fexceptions|-fno-exceptions|-fnon-call-exceptions"
    r"|-f(no-)?strict-aliasing|-f(no-)?common|-fstrict-enums|-fpic|-fPIC|-finstrument-functions"
    r"|-finput-charset=.*|-f(un)?signed-char|-fpermissive|-fno-rtti|-fno-threadsafe-statics"
    r"|-fcheck-new)$")
DROPPED_QUIETLY = re.compile(r"^(-O.*|-W.*|-w|-g.*|-pedantic.*|-ansi)$")
LINK_OPTIONS = re.compile(r"^-l.*$")

CXX_STDS = [17, 20, 14, 11, 98]  # tried in this order; the first a test accepts is used


class Test:
    """One corpus file: whether it runs, and how to compile it."""

    def __init__(self, path, lang):
        self.path = path
        self.lang = lang  # "c" or "c++"
        self.skip = None  # reason, when not a standalone run test here
        self.std = None  # e.g. "gnu17", "gnu++17"
        self.flags = []  # passed to clang (dialect excluded)
        self.link_flags = []
        self.ignored = []  # options from the test that were not passed on, for the report


def tcl_words(text):
    """Splits a directive body into Tcl-like words: "quoted", {braced} (inner text), bare."""
    words, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "{":
            depth, j = 1, i + 1
            while j < n and depth:
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            words.append(("brace", text[i + 1:j - 1].strip()))
            i = j
        elif c == '"':
            j, buf = i + 1, []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(text[j])
                j += 1
            words.append(("quote", "".join(buf)))
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '{"':
                j += 1
            words.append(("word", text[i:j]))
            i = j
    return words


def directives(source):
    """Yields (name, words) for each `{ dg-NAME ... }` in the source, braces balanced."""
    for m in re.finditer(r"\{\s*dg-([a-z0-9-]+)", source):
        depth, j = 1, m.end()
        while j < len(source) and depth:
            depth += {"{": 1, "}": -1}.get(source[j], 0)
            j += 1
        if depth == 0:
            yield m.group(1), tcl_words(source[m.end():j - 1])


def cxx_level(std):
    m = re.search(r"\+\+(\d+|0x|1y|1z|2a)$", std or "")
    if not m:
        return 17
    v = m.group(1)
    v = {"0x": "11", "1y": "14", "1z": "17", "2a": "20"}.get(v, v)
    return 98 if v in ("98", "03") else int(v)


def keyword_true(word, std):
    """An atom of a selector: a target triplet glob or an effective-target keyword."""
    m = re.fullmatch(r"c\+\+(\d+)(_only|_down)?", word)
    if m:
        want, kind, have = int(m.group(1)), m.group(2), cxx_level(std)
        order = [98, 11, 14, 17, 20, 23, 26]
        if kind == "_only":
            return have == want
        if kind == "_down":
            return order.index(have) <= order.index(want)
        return order.index(have) >= order.index(want)
    if word.count("-") >= 2 or "*" in word or "?" in word:
        return fnmatch.fnmatchcase(TRIPLET, word)
    return word in EFFECTIVE_TARGETS


def selector_true(text, std):
    """A selector body such as `c++11`, `{ i?86-*-* x86_64-*-* } && lp64` or `! fpic`."""
    words = tcl_words(text)
    pos = 0

    def atom(w):
        kind, value = w
        return selector_true(value, std) if kind == "brace" else keyword_true(value, std)

    def parse_not():
        nonlocal pos
        if pos < len(words) and words[pos] == ("word", "!"):
            pos += 1
            return not parse_not()
        w = words[pos]
        pos += 1
        return atom(w)

    def parse_and():
        nonlocal pos
        value = parse_not()
        while pos < len(words) and words[pos] == ("word", "&&"):
            pos += 1
            value = parse_not() and value
        return value

    def parse_or():
        nonlocal pos
        value = parse_and()
        while pos < len(words) and words[pos] == ("word", "||"):
            pos += 1
            value = parse_and() or value
        return value

    if not words:
        return True
    if any(w in (("word", "!"), ("word", "&&"), ("word", "||")) for w in words):
        return parse_or()
    return any(atom(w) for w in words)  # a plain list of triplets or keywords: any matches


def clause_true(word, std):
    """`{ target SEL }` → SEL holds; `{ xfail ... }` and the like do not restrict running."""
    kind, text = word
    if kind != "brace":
        return keyword_true(text, std)
    parts = text.split(None, 1)
    if parts and parts[0] == "target":
        return selector_true(parts[1] if len(parts) > 1 else "", std)
    if parts and parts[0] in ("xfail", "xfail-if"):
        return True
    return selector_true(text, std)


def options_match(patterns, flags):
    """dg-skip-if's option lists: any pattern matching the flags ("*" and "" match all)."""
    for p in patterns:
        if p in ("*", ""):
            return True
        if any(fnmatch.fnmatchcase(f, p) for f in flags) or fnmatch.fnmatchcase(" ".join(flags), p):
            return True
    return False


def word_list(word):
    kind, text = word
    if kind == "brace":
        return [v for _, v in tcl_words(text)]
    return [text]


def add_options(test, text, std_box):
    for opt in shlex.split(text):
        if opt.startswith("-std="):
            std_box[0] = opt[5:].replace("c++0x", "c++11").replace("c++1y", "c++14")
        elif PASSED_OPTIONS.match(opt):
            test.flags.append(opt)
        elif LINK_OPTIONS.match(opt):
            test.link_flags.append(opt)
        elif not DROPPED_QUIETLY.match(opt):
            test.ignored.append(opt)


def evaluate(test, found, std, default_run):
    """Applies the directives for one dialect; returns False if the test does not run under it."""
    test.skip, test.flags, test.link_flags, test.ignored = None, [], [], []
    std_box = [std]
    is_run = default_run
    for name, words in found:
        first = words[0][1] if words else ""
        cond = clause_true(words[1], std) if len(words) > 1 else True
        if name == "do":
            if not cond:
                test.skip = "dg-do run: target selector is false here"
                return False
            is_run = first == "run"
            if not is_run:
                test.skip = f"not a run test (dg-do {first})"
                return False
        elif name in ("options", "additional-options"):
            if cond:
                add_options(test, first, std_box)
            else:
                test.ignored.append(f"[other target] {first}")
        elif name == "additional-sources":
            test.skip = "not standalone (dg-additional-sources)"
            return False
        elif name == "require-effective-target":
            if cond and not keyword_true(first, std_box[0]):
                test.skip = f"requires effective target {first}"
                return False
        elif name == "skip-if":
            include = word_list(words[2]) if len(words) > 2 else ["*"]
            exclude = word_list(words[3]) if len(words) > 3 else []
            flags = [OPT_LEVEL] + test.flags
            if (len(words) > 1 and clause_true(words[1], std) and options_match(include, flags)
                    and not (exclude and exclude != [""] and options_match(exclude, flags))):
                test.skip = f"dg-skip-if \"{first}\" holds here"
                return False
        elif name == "add-options" and first not in ("ieee", "stack_size"):
            test.skip = f"dg-add-options {first} is not modelled"
            return False
    if not is_run:
        test.skip = "not a run test (no dg-do run)"
        return False
    test.std = std_box[0]
    return True


def read_test(path, lang, default_run):
    """Parses PATH; returns a Test whose .skip says why it does not run, or its flags."""
    test = Test(path, lang)
    with open(path, encoding="utf-8", errors="replace") as f:
        found = list(directives(f.read()))
    if lang == "c":
        evaluate(test, found, "gnu17", default_run)
        return test
    for level in CXX_STDS:
        if evaluate(test, found, f"gnu++{level}", default_run):
            return test
        if not test.skip.startswith("dg-do run: target"):
            return test  # the dialect is not the reason: no other dialect helps
    return test
