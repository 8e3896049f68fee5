// Asks before a form marked data-confirm (revoke, end) is sent. Served as a file: the CSP allows no inline script.
document.addEventListener('submit', function (event) {
  var message = event.target.getAttribute('data-confirm');
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
