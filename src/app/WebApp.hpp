#pragma once
// The web app (web/app, built by web/scripts/build.mjs) compiled into the binary and served by the
// roles that people open in a browser: `meeting all` and `meeting apiserver`.
#include "net/HttpRouter.hpp"

namespace meeting::app {

/// True when this binary carries the built web app (else a page explains how to build it).
bool webAppEmbedded();

/// GET / and the app's own paths (/m/<code>, /invite/<token>) answer the app's page; /assets/*
/// its script and style sheet, with ETags so browsers revalidate instead of running stale code.
void addWebAppRoutes(net::HttpRouter& router);

}  // namespace meeting::app
