// The console works without this script; it only adds a "select all" box.
document.querySelectorAll("input[data-select-all]").forEach(function (all) {
  all.hidden = false;
  var form = all.form;
  all.addEventListener("change", function () {
    form.querySelectorAll("input[name=id]").forEach(function (box) { box.checked = all.checked; });
  });
});
