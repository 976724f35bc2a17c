/* global window, document, setTimeout */
// ktpay-mock pages: the iframe protocol of the public widget client (spec §8), as progressive
// enhancement. Every page works without this file; with it, inside an iframe:
//  - the close button posts "close" to the parent (which removes #iframe_widget),
//  - "Продолжить" and force redirects post the target URL (the parent navigates to it).
(function () {
  'use strict';
  var framed = false;
  try {
    framed = window.parent !== window;
  } catch {
    framed = true;
  }
  document.documentElement.className += framed ? ' js framed' : ' js';

  function post(message) {
    window.parent.postMessage(message, '*');
  }

  var i;
  var framedInputs = document.querySelectorAll('input[name="framed"]');
  for (i = 0; i < framedInputs.length; i++) framedInputs[i].value = framed ? '1' : '0';

  var closers = document.querySelectorAll('[data-close]');
  for (i = 0; i < closers.length; i++) {
    closers[i].addEventListener('click', function (e) {
      if (!framed) return;
      e.preventDefault();
      post('close');
    });
  }

  var continues = document.querySelectorAll('[data-continue]');
  for (i = 0; i < continues.length; i++) {
    continues[i].addEventListener('click', function (e) {
      if (!framed) return;
      e.preventDefault();
      post(this.href);
    });
  }

  var exit = document.querySelector('[data-exit]');
  if (exit) {
    if (framed) post(exit.href);
    else window.location.replace(exit.href);
  }

  // Niceties: group the card number in fours, and stop double submits.
  var pan = document.getElementById('pan');
  if (pan) {
    pan.addEventListener('input', function () {
      var digits = pan.value.replace(/\D/g, '').slice(0, 19);
      var grouped = digits.replace(/(\d{4})(?=\d)/g, '$1 ');
      if (grouped !== pan.value) pan.value = grouped;
    });
  }
  var forms = document.querySelectorAll('form.card-form');
  for (i = 0; i < forms.length; i++) {
    forms[i].addEventListener('submit', function () {
      var b = this.querySelector('button[type="submit"]');
      if (b)
        setTimeout(function () {
          b.disabled = true;
        }, 0);
    });
  }
})();
