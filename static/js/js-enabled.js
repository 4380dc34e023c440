// Loaded in <head>, not deferred: marks the page as scripted before it paints, so styles meant for
// browsers without JavaScript never flash. (An inline script did this, which the CSP now forbids.)
document.documentElement.classList.replace("no-js", "js");
