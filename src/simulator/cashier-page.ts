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
  /** The page's language, from `?lang=en`; Chinese by default, as WeChat in China. */
  lang?: 'zh' | 'en';
}

/** The cashier's words. The page's own script reads the `status` ones from the embedded data. */
const WORDS = {
  zh: {
    title: '微信支付（模拟器）',
    cancel: '取消',
    pay: '确认支付',
    close: '关闭',
    paying: '支付中…',
    paid: '支付成功',
    network: '网络错误',
  },
  en: {
    title: 'WeChat Pay (simulator)',
    cancel: 'Cancel',
    pay: 'Confirm payment',
    close: 'Close',
    paying: 'Paying…',
    paid: 'Payment successful',
    network: 'Network error',
  },
} as const;

/** The problems cashier.ts reports, in English. */
const PROBLEMS_EN: Readonly<Record<string, string>> = {
  '订单不存在：未知的 prepay_id': 'No such order: unknown prepay_id',
  'prepay_id已失效，请重新下单': 'The prepay_id has expired; place the order again',
  该订单已支付: 'This order is already paid',
  订单已关闭: 'The order is closed',
  订单已过期: 'The order has expired',
};

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
st.textContent=result==='SUCCESS'?d.words.paying:'';
var body=d.payment?{result:result,appId:d.appId,payment:d.payment}:{prepay_id:d.prepayId,result:result};
fetch('/sim/pay',{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify(body)})
.then(function(r){return r.json().then(function(j){return{ok:r.ok,j:j}})})
.then(function(x){var msg=x.j.errMsg||'requestPayment:fail';var res=x.ok?result:'FAIL';
st.textContent=msg==='requestPayment:ok'?d.words.paid:msg;tell(res,msg)})
.catch(function(e){st.textContent=d.words.network;tell('FAIL','requestPayment:fail '+e)})}
var p=document.getElementById('pay');if(p)p.onclick=function(){go('SUCCESS')};
var c=document.getElementById('cancel');if(c)c.onclick=function(){go('CANCEL')};
var x=document.getElementById('close');if(x)x.onclick=function(){tell('FAIL','requestPayment:fail '+d.problem)};})();`;

/**
 * @example
 * renderCashierPage({ prepayId: 'wx…', merchantName: '商户1900000109', description: '咖啡', totalFee: 1 })
 */
export function renderCashierPage(view: CashierView): string {
  const lang = view.lang ?? 'zh';
  const w = WORDS[lang];
  const problem =
    view.problem && (lang === 'en' ? (PROBLEMS_EN[view.problem] ?? view.problem) : view.problem);
  const content = problem
    ? `<div class="problem">${escapeHtml(problem)}</div><div class="row"><button id="close" class="cancel">${w.close}</button></div>`
    : `<div class="amount"><small>¥</small>${yuan(view.totalFee ?? 0)}</div>
<div class="desc">${escapeHtml(view.description ?? '')}</div>
<div class="row"><button id="cancel" class="cancel">${w.cancel}</button><button id="pay" class="pay">${w.pay}</button></div>`;
  return `<!doctype html><html lang="${lang === 'en' ? 'en' : 'zh-CN'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1,maximum-scale=1">
<title>${w.title}</title><style>${CSS}</style></head><body>
<div class="sheet"><div class="title">${w.title}</div>
<div class="merchant">${escapeHtml(view.merchantName ?? '')}</div>${content}
<div id="status" class="status"></div></div>
<script id="cashier-data" type="application/json">${scriptJson({ ...view, problem, words: { paying: w.paying, paid: w.paid, network: w.network } })}</script>
<script>${SCRIPT}</script></body></html>`;
}
