// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
/* The bytecode execution ABI lives in the public C header (AOT objects use it too). */
#ifndef TIERJIT_BYTECODE_ABI_SHIM_H
#define TIERJIT_BYTECODE_ABI_SHIM_H
#include "tierjit/bytecode_abi.h"
#endif
