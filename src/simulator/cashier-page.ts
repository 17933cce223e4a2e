/**
 * The cashier sheet: the "confirm payment" screen WeChat shows after wx.requestPayment, as a
 * self-contained phone-sized page (inline CSS and JS, no external resource). It posts the user's
 * choice to /sim/pay and tells whoever embedded or opened it with
 * `postMessage({ type: 'weapp-pay-sim:payment', prepay_id, result, errMsg }, '*')`.
 */

export interface CashierView {
  prepayId: string;
  /** Shown when the order cannot be paid (unknown or expired prepay_id, already paid…). */
  problem?: string;
  merchantName?: string;
  description?: string;
  totalFee?: number;
  /** The real client's parameters, forwarded to /sim/pay so paySign is verified. */
  payment?: Record<string, string>;
  appId?: string;
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** JSON safe to put inside a <script> element. */
const scriptJson = (value: unknown): string =>
  JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

const yuan = (fen: number): string => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;

const CSS = `*{box-sizing:border-box}body{margin:0;font-family:-apple-system,"PingFang SC","Helvetica Neue",sans-serif;
background:rgba(0,0,0,.45);min-height:100vh;display:flex;align-items:flex-end;justify-content:center}
.sheet{background:#f7f7f7;width:100%;max-width:420px;border-radius:12px 12px 0 0;padding:20px 20px 28px;text-align:center}
.title{font-size:15px;color:#333;margin-bottom:6px}.merchant{font-size:14px;color:#888}
.amount{font-size:40px;font-weight:600;margin:18px 0 6px;color:#111}.amount small{font-size:24px;margin-right:2px}
.desc{font-size:14px;color:#555;margin-bottom:22px;word-break:break-all}
.problem{color:#fa5151;font-size:15px;margin:18px 0}.row{display:flex;gap:12px}
button{flex:1;border:0;border-radius:8px;padding:14px 0;font-size:17px;cursor:pointer}
.pay{background:#07c160;color:#fff}.cancel{background:#e7e7e7;color:#333}
button:disabled{opacity:.5}.status{margin-top:14px;font-size:14px;color:#576b95;min-height:20px}`;

const SCRIPT = `(function(){var d=JSON.parse(document.getElementById('cashier-data').textContent);
var st=document.getElementById('status');
function tell(result,errMsg){var m={type:'weapp-pay-sim:payment',prepay_id:d.prepayId,result:result,errMsg:errMsg};
try{if(window.parent&&window.parent!==window)window.parent.postMessage(m,'*')}catch(e){}
try{if(window.opener)window.opener.postMessage(m,'*')}catch(e){}}
function go(result){var bs=document.querySelectorAll('button');for(var i=0;i<bs.length;i++)bs[i].disabled=true;
st.textContent=result==='SUCCESS'?'支付中…':'';
var body=d.payment?{result:result,appId:d.appId,payment:d.payment}:{prepay_id:d.prepayId,result:result};
fetch('/sim/pay',{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify(body)})
.then(function(r){return r.json().then(function(j){return{ok:r.ok,j:j}})})
.then(function(x){var msg=x.j.errMsg||'requestPayment:fail';var res=x.ok?result:'FAIL';
st.textContent=msg==='requestPayment:ok'?'支付成功':msg;tell(res,msg)})
.catch(function(e){st.textContent='网络错误';tell('FAIL','requestPayment:fail '+e)})}
var p=document.getElementById('pay');if(p)p.onclick=function(){go('SUCCESS')};
var c=document.getElementById('cancel');if(c)c.onclick=function(){go('CANCEL')};
var x=document.getElementById('close');if(x)x.onclick=function(){tell('FAIL','requestPayment:fail '+d.problem)};})();`;

/**
 * @example
 * renderCashierPage({ prepayId: 'wx…', merchantName: '商户1900000109', description: '咖啡', totalFee: 1 })
 */
export function renderCashierPage(view: CashierView): string {
  const content = view.problem
    ? `<div class="problem">${escapeHtml(view.problem)}</div><div class="row"><button id="close" class="cancel">关闭</button></div>`
    : `<div class="amount"><small>¥</small>${yuan(view.totalFee ?? 0)}</div>
<div class="desc">${escapeHtml(view.description ?? '')}</div>
<div class="row"><button id="cancel" class="cancel">取消</button><button id="pay" class="pay">确认支付</button></div>`;
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1,maximum-scale=1">
<title>微信支付（模拟）</title><style>${CSS}</style></head><body>
<div class="sheet"><div class="title">微信支付（模拟器）</div>
<div class="merchant">${escapeHtml(view.merchantName ?? '')}</div>${content}
<div id="status" class="status"></div></div>
<script id="cashier-data" type="application/json">${scriptJson(view)}</script>
<script>${SCRIPT}</script></body></html>`;
}
