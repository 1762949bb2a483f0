// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// The library's error type lives in the public header; this keeps internal includes short.
#pragma once
#include "tierjit/error.hpp"
