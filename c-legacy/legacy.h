/* SPDX-License-Identifier: MIT */
/*
 * Umbrella header for the legacy netlink C code: the handler (nl.h) and the
 * verbs (network.h). bindgen reads this file; see rust-core/codegen.
 */
#ifndef LEGACY_H
#define LEGACY_H

#include "nl.h"
#include "network.h"

#endif /* LEGACY_H */
