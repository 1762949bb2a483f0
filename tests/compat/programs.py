# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""The Debian programs corpus (tests/compat/run-programs): which programs are built from which
Debian source package (scripts/fetch-debian-programs), with which flags, and the cases each
runs: arguments, input files copied into a fresh working folder, and standard input.

Sources are relative to the package, or start with `{gen}` (the generated files below).
Paths in `files`, `stdin` and `expect` start with `{src}` (the package's unpacked source) or
`{here}` (tests/compat/programs, inputs written here); a folder in `files` is copied whole.
`stdin` may also be `case:NAME`: the native standard output of an earlier case of the same
program (a compress/decompress round trip). `expect` names a file the native standard output
must equal: a check of the native build itself against the package's own reference output.
"""
import dataclasses
import os


@dataclasses.dataclass
class Case:
    name: str
    args: list
    files: list = dataclasses.field(default_factory=list)
    stdin: str = None
    expect: str = None
    expect_part: str = "whole"  # or "head"/"tail": the output is the start/end of `expect`


@dataclasses.dataclass
class Program:
    name: str
    package: str  # the Debian source package (a folder of the corpus)
    sources: list  # C files, relative to the package
    cases: list
    cflags: list = dataclasses.field(default_factory=list)
    # Headers and sources a package's own build generates or copies into place first:
    # name -> ("text", content) or ("copy", path in the package). They go to a `gen`
    # folder that comes first on the include path.
    generated: dict = dataclasses.field(default_factory=dict)


def _lua():
    scripts = ["strings", "tables", "coroutines", "errors", "bench_numeric", "bench_text",
               "bench_trees"]
    core = ["lapi", "lcode", "lctype", "ldebug", "ldo", "ldump", "lfunc", "lgc", "llex", "lmem",
            "lobject", "lopcodes", "lparser", "lstate", "lstring", "ltable", "ltm", "lundump",
            "lvm", "lzio", "lauxlib", "lbaselib", "lcorolib", "ldblib", "liolib", "lmathlib",
            "loadlib", "loslib", "lstrlib", "ltablib", "lutf8lib", "linit", "lua"]
    return Program(
        name="lua", package="lua5.4", sources=[f"src/{c}.c" for c in core],
        # Debian's build: src/Makefile's linux target; debian/rules writes the multiarch header.
        cflags=["-DLUA_COMPAT_5_3", "-DLUA_USE_LINUX"],
        generated={"lua5.4-deb-multiarch.h":
                   ("text", f'#define DEB_HOST_MULTIARCH "{os.uname().machine}-linux-gnu"\n')},
        cases=[Case(s, [f"{s}.lua"], files=[f"{{here}}/lua/{s}.lua"]) for s in scripts])


def _bzip2():
    lib = ["blocksort", "huffman", "crctable", "randtable", "compress", "decompress", "bzlib"]
    cases = []
    # bzip2's own `make test`: compress sample N at block size -N, decompress the .bz2.
    for n in (1, 2, 3):
        ref, bz = f"sample{n}.ref", f"sample{n}.bz2"
        cases.append(Case(f"compress{n}", [f"-{n}", "-c", ref], files=[f"{{src}}/{ref}"],
                          expect=f"{{src}}/{bz}"))
        cases.append(Case(f"decompress{n}", ["-d", "-c", bz], files=[f"{{src}}/{bz}"],
                          expect=f"{{src}}/{ref}"))
    cases.append(Case("decompress-small", ["-ds"], stdin="{src}/sample3.bz2",
                      expect="{src}/sample3.ref"))  # -s: the low-memory decoder
    cases.append(Case("compress-9v", ["-9", "-vv"], stdin="{src}/sample3.ref"))
    cases.append(Case("stdin-roundtrip", ["-d"], stdin="case:compress-9v",
                      expect="{src}/sample3.ref"))
    cases.append(Case("test-vv", ["-t", "-vv", "sample1.bz2", "sample2.bz2", "sample3.bz2"],
                      files=[f"{{src}}/sample{n}.bz2" for n in (1, 2, 3)]))
    cases.append(Case("corrupt", ["-d", "-c", "sample1.ref"], files=["{src}/sample1.ref"]))
    return Program(name="bzip2", package="bzip2",
                   sources=[f"{c}.c" for c in lib] + ["bzip2.c"],
                   cflags=["-D_FILE_OFFSET_BITS=64"], cases=cases)


ZLIB_LIB = ["adler32", "crc32", "deflate", "infback", "inffast", "inflate", "inftrees", "trees",
            "zutil", "compress", "uncompr", "gzclose", "gzlib", "gzread", "gzwrite"]
ZLIB_FLAGS = ["-D_LARGEFILE64_SOURCE=1", "-DHAVE_UNISTD_H", "-DHAVE_STDARG_H"]


def _zlib():
    lib = [f"{c}.c" for c in ZLIB_LIB]
    minigzip = []
    for level in ("1", "6", "9"):
        minigzip.append(Case(f"gzip-{level}", [f"-{level}"], stdin="{src}/ChangeLog"))
        minigzip.append(Case(f"gunzip-{level}", ["-d"], stdin=f"case:gzip-{level}",
                             expect="{src}/ChangeLog"))
    minigzip.append(Case("gzip-pdf", ["-c", "zlib.3.pdf"], files=["{src}/zlib.3.pdf"]))
    minigzip.append(Case("gzip-huffman", ["-h", "-c", "zlib.3.pdf"], files=["{src}/zlib.3.pdf"]))
    minigzip.append(Case("gzip-rle", ["-R", "-c", "zlib.3.pdf"], files=["{src}/zlib.3.pdf"]))
    minigzip.append(Case("gunzip-bad", ["-d"], stdin="{src}/zlib.h"))
    return [
        Program(name="zlib-example", package="zlib", sources=lib + ["test/example.c"],
                cflags=ZLIB_FLAGS, cases=[Case("example", [])]),
        Program(name="zlib-minigzip", package="zlib", sources=lib + ["test/minigzip.c"],
                cflags=ZLIB_FLAGS, cases=minigzip),
        Program(name="zlib-infcover", package="zlib", sources=lib + ["test/infcover.c"],
                cflags=ZLIB_FLAGS, cases=[Case("infcover", [])]),
    ]


PCRE2_LIB = ["auto_possess", "compile", "config", "context", "convert", "dfa_match", "error",
             "extuni", "find_bracket", "jit_compile", "maketables", "match", "match_data",
             "newline", "ord2utf", "pattern_info", "script_run", "serialize", "string_utils",
             "study", "substitute", "substring", "tables", "ucd", "valid_utf", "xclass"]


def _pcre2():
    # NON-AUTOTOOLS-BUILD: config.h and pcre2.h from their .generic files, the default
    # character tables from pcre2_chartables.c.dist; the 8-bit library with Unicode, no JIT.
    # The tests RunTest runs for that configuration (8-bit, Unicode, link size 2, no JIT),
    # each checked natively against its reference output, as RunTest does.
    tests = {1: "1", 2: "2", 4: "4", 5: "5", 6: "6", 7: "7", 8: "8-8-2", 9: "9", 10: "10",
             14: "14-8", 15: "15", 16: "16", 18: "18", 19: "19", 20: "20", 21: "21", 22: "22-8",
             24: "24", 25: "25", 26: "26"}
    cases = []
    for n, output in tests.items():
        stack = ["-S", "64"] if n == 2 else []
        files = [f"{{src}}/testdata/testinput{n}"]
        files += ["{src}/testdata/testbtables"] if n == 2 else []
        cases.append(Case(f"test{n}", ["-q", *stack, f"testinput{n}"], files=files,
                          expect=f"{{src}}/testdata/testoutput{output}",
                          expect_part="head" if n == 2 else "whole"))
    # RunTest appends this run's output to test 2's.
    cases.insert(2, Case("errors", ["-q", "-error", "-70,-62,-2,-1,0,100,101,191,200"],
                         expect="{src}/testdata/testoutput2", expect_part="tail"))
    return Program(
        name="pcre2test", package="pcre2",
        sources=[f"src/pcre2_{c}.c" for c in PCRE2_LIB]
        + ["{gen}/pcre2_chartables.c", "src/pcre2posix.c", "src/pcre2test.c"],
        cflags=["-I{src}/src", "-DHAVE_CONFIG_H", "-DPCRE2_CODE_UNIT_WIDTH=8", "-DSUPPORT_PCRE2_8",
                "-DSUPPORT_UNICODE", "-DPCRE2_STATIC", "-DHAVE_STDINT_H", "-DHAVE_INTTYPES_H",
                "-DHAVE_UNISTD_H", "-DHAVE_STRING_H", "-DHAVE_STDLIB_H", "-DHAVE_MEMMOVE",
                "-DHAVE_STRERROR", "-DHAVE_LIMITS_H", "-DHAVE_SYS_STAT_H",
                "-DHAVE_SYS_TYPES_H", "-DHAVE_SYS_WAIT_H", "-DHAVE_DIRENT_H"],
        generated={"config.h": ("copy", "src/config.h.generic"),
                   "pcre2.h": ("copy", "src/pcre2.h.generic"),
                   "pcre2_chartables.c": ("copy", "src/pcre2_chartables.c.dist")},
        cases=cases)


def _cjson():
    unity = ["parse_examples", "parse_number", "parse_hex4", "parse_string", "parse_array",
             "parse_object", "parse_value", "print_string", "print_number", "print_array",
             "print_object", "print_value", "misc_tests", "parse_with_opts", "compare_tests",
             "cjson_add", "readme_examples", "minify_tests"]
    utils = ["json_patch_tests", "old_utils_tests", "misc_utils_tests"]
    inputs = ["{src}/tests/inputs"]
    patch = ["{src}/tests/json-patch-tests"]
    # Each Unity test is a program of its own, as in cJSON's tests/CMakeLists.txt.
    flags = ["-I{src}", "-I{src}/tests/unity/src"]
    programs = [Program(name="cjson-test", package="cjson", sources=["cJSON.c", "test.c"],
                        cases=[Case("test", [])])]
    for t in unity + utils:
        # tests/common.h includes cJSON.c itself.
        lib = ["tests/unity/src/unity.c"] + (["cJSON_Utils.c"] if t in utils else [])
        files = inputs if t == "parse_examples" else patch if t == "json_patch_tests" else []
        programs.append(Program(name=f"cjson-{t}", package="cjson",
                                sources=lib + [f"tests/{t}.c"], cflags=flags,
                                cases=[Case(t, [], files=files)]))
    return programs


def all_programs():
    return [_lua(), _bzip2(), *_zlib(), _pcre2(), *_cjson()]


HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "programs")


def expand(path, src, gen=""):
    """A `{src}`/`{here}`/`{gen}` path made absolute."""
    return path.replace("{src}", src).replace("{here}", HERE).replace("{gen}", gen)
