// SPDX-License-Identifier: GPL-2.0
/* tapsh_rt_core.c - a session core: the runtime with every API exported, no script of its own. */
#define TAP_CORE
#include "tap_runtime.c"
