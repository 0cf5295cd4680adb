/* SPDX-License-Identifier: MIT */
/*
 * Umbrella header for the legacy netlink C code: the handler (nl.h), the
 * verbs (network.h) and the original project's network.h API under its
 * library names (lxc.h). bindgen reads this file; see rust-core/codegen.
 */
#ifndef LEGACY_H
#define LEGACY_H

#include "nl.h"
#include "network.h"
#include "lxc.h"

#endif /* LEGACY_H */
