// The mock console's live banner: "N new messages — refresh". It listens to
// /console/events (Server-Sent Events), which counts the captures stored after the page
// was rendered. The page works the same without it.
(function () {
  "use strict";
  var live = document.querySelector("[data-live-after]");
  var banner = document.getElementById("live-banner");
  var count = document.getElementById("live-count");
  if (!live || !banner || !count || !window.EventSource) {
    return;
  }
  var url = "/console/events?after=" + encodeURIComponent(live.getAttribute("data-live-after"));
  var kind = live.getAttribute("data-live-kind");
  if (kind) {
    url += "&kind=" + encodeURIComponent(kind);
  }
  var one = live.getAttribute("data-live-one") || "new capture";
  var many = live.getAttribute("data-live-many") || "new captures";
  var source = new EventSource(url);
  source.addEventListener("captures", function (event) {
    var data;
    try {
      data = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    var n = Number(data.new) || 0;
    if (n > 0) {
      count.textContent = n === 1 ? "1 " + one : n + " " + many;
      banner.hidden = false;
    }
  });
})();
