# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""Names the cause of a corpus failure from its first differing detail (the known-failures
list uses these names as reasons), and groups exclusions by kind for the summary."""
import collections
import re

# Constructs in a program's IR that explain a crash with no message: (text in the .ll, feature).
FEATURES = [
    ("blockaddress(", "blockaddress"),
    ("@_Unwind_ForcedUnwind", "forced-unwind"),
    ("@__cxa_throw", "throw"),
    ("@__cxa_rethrow", "throw"),
]

# (pattern on the failure detail, IR feature it needs or None, cause), first match wins.
# Keep each cause one short phrase: the known-failures list uses them as reasons.
CAUSES = [
    (r"terminate called after throwing", None, "C++ exceptions: throw not caught (terminate)"),
    (r"killed by SIG", "blockaddress", "computed goto (blockaddress): crashes"),
    (r"killed by SIGABRT", "forced-unwind", "forced unwinding (_Unwind_ForcedUnwind) aborts"),
    (r"timed out", None, "timeout"),
]


def ir_features(ll_text):
    """The FEATURES present in a module's text."""
    return sorted({feature for needle, feature in FEATURES if needle in ll_text})


def normalize(detail):
    """A detail with numbers, addresses and quoted text blurred, so like failures group."""
    text = re.sub(r"0x[0-9a-fA-F]+", "0x?", detail)
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text)
    text = re.sub(r"\d+", "N", text)
    return text[:120]


def classify(detail, features=()):
    detail = re.sub(r"^run \d+: ", "", detail)  # the warm mode's run number
    for pattern, feature, cause in CAUSES:
        if re.search(pattern, detail) and (feature is None or feature in features):
            return cause
    return normalize(detail)


def exclusion_group(reason):
    """`IR build failed: ...` → `IR build failed`; `by hand: why` → `by hand`."""
    head = reason.split(":", 1)[0].split(" (", 1)[0]
    return head


def count_by(items, key):
    """[(key, count)] most frequent first."""
    return collections.Counter(key(i) for i in items).most_common()
