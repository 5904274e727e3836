(function(){
  var failed=document.getElementById('failed-only'), label=document.getElementById('label'), shown=document.getElementById('shown');
  function apply(){
    var n=0, rows=document.querySelectorAll('tr.spec');
    rows.forEach(function(r){
      var ok=(!failed.checked||r.classList.contains('failed'))&&(!label.value||(' '+r.dataset.labels+' ').indexOf(' '+label.value+' ')>=0);
      r.hidden=!ok; if(ok)n++;
    });
    document.querySelectorAll('details.group').forEach(function(d){
      var any=d.querySelector('tr.spec:not([hidden])'); d.hidden=!any; if((failed.checked||label.value)&&any)d.open=true;
    });
    shown.textContent=n+' of '+rows.length+' spec(s) shown';
  }
  var h=decodeURIComponent(location.hash.slice(1));
  if(h.indexOf('failed')>=0)failed.checked=true;
  var m=/label=([^&]+)/.exec(h); if(m)label.value=m[1];
  failed.addEventListener('change',apply); label.addEventListener('change',apply); apply();
})();
