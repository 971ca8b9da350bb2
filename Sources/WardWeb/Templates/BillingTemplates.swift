/// The billing desk's pages (what is owed, an invoice) and the parking attendant's.
enum BillingTemplates {
    static let all: [String: String] = ["billing": billing, "invoice": invoice, "parking": parking, "parking-report": parkingReport]

    static let parking = #"""
{{<layout}}
{{$title}}Parking{{/title}}
{{$main}}
<h1>Parking{{#hasFacility}}: {{facilityName}}{{/hasFacility}}</h1>
{{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
<form method="get" action="/app/parking" class="panel search" aria-label="Choose the car park">
<div>{{#fields}}{{>field}}{{/fields}}</div>
<button type="submit">Show</button>
</form>
{{^hasFacility}}<p class="hint">No car park is set up yet.</p>{{/hasFacility}}
{{#hasFacility}}
<table>
<caption class="hint">Each zone now</caption>
<thead><tr><th scope="col">Zone</th><th scope="col">For</th><th scope="col">Spots</th><th scope="col">Free</th><th scope="col">Occupied</th><th scope="col">Reserved</th><th scope="col">Overstaying</th></tr></thead>
<tbody>
{{#zones}}<tr><th scope="row">{{name}}</th><td>{{kind}}</td><td>{{spots}}</td><td>{{free}}</td><td>{{occupied}}</td><td>{{reserved}}</td><td>{{overstaying}}</td></tr>
{{/zones}}
</tbody>
</table>
<p><a href="/app/parking/report?facility={{facilityID}}">The day's report</a></p>
{{/hasFacility}}
{{#canOperate}}
<h2>The gate</h2>
{{>form-errors}}
<form method="post" action="/app/parking/gate" class="panel" novalidate>
<input type="hidden" name="_csrf" value="{{shell.formToken}}">
<input type="hidden" name="facility" value="{{facilityID}}">
<div class="grid">
{{#gate}}{{>field}}{{/gate}}
</div>
<button type="submit">Record</button>
</form>
{{/canOperate}}
{{^empty(bookings)}}
<h2>Reservations</h2>
<table>
<caption class="hint">Reservations not yet checked in, soonest first</caption>
<thead><tr><th scope="col">Plate</th><th scope="col">Spot</th><th scope="col">When</th></tr></thead>
<tbody>
{{#bookings}}<tr><td>{{plate}}</td><td>{{spot}}</td><td>{{window}}</td></tr>
{{/bookings}}
</tbody>
</table>
{{/empty(bookings)}}
{{^empty(permits)}}
<h2>Staff permits</h2>
<table>
<caption class="hint">Vehicles let in without a reservation on these days and hours</caption>
<thead><tr><th scope="col">Plate</th><th scope="col">Days</th><th scope="col">Hours</th><th scope="col">Valid</th><th scope="col">Status</th></tr></thead>
<tbody>
{{#permits}}<tr><td>{{plate}}</td><td>{{days}}</td><td>{{hours}}</td><td>{{validity}}</td><td>{{status}}</td></tr>
{{/permits}}
</tbody>
</table>
{{/empty(permits)}}
{{/main}}
{{/layout}}
"""#

    static let parkingReport = #"""
{{<layout}}
{{$title}}Parking report{{/title}}
{{$main}}
<h1>Parking report{{#hasFacility}}: {{facilityName}}, {{date}}{{/hasFacility}}</h1>
{{>form-errors}}
<form method="get" action="/app/parking/report" class="panel search" aria-label="Choose the car park and the day">
<div>{{#fields}}{{>field}}{{/fields}}</div>
<button type="submit">Show</button>
</form>
{{^hasFacility}}{{^problem}}<p class="hint">No car park is set up yet.</p>{{/problem}}{{/hasFacility}}
{{#hasFacility}}
{{#hours}}<p class="hint">{{hours}}</p>{{/hours}}
<table>
<caption class="hint">Each zone over the car park's local day</caption>
<thead><tr><th scope="col">Zone</th><th scope="col">For</th><th scope="col">Spots</th><th scope="col">Bookings</th><th scope="col">Cancelled</th><th scope="col">No-shows</th><th scope="col">Check-ins</th><th scope="col">Occupied</th><th scope="col">Occupancy</th><th scope="col">Peak</th><th scope="col">Revenue</th></tr></thead>
<tbody>
{{#zones}}<tr><th scope="row">{{name}}</th><td>{{kind}}</td><td>{{spots}}</td><td>{{bookings}}</td><td>{{cancelled}}</td><td>{{noShows}}</td><td>{{checkIns}}</td><td>{{occupied}}</td><td>{{occupancy}}</td><td>{{peak}}</td><td>{{revenue}}</td></tr>
{{/zones}}
</tbody>
</table>
<p><a href="/app/parking">Back to the car parks</a></p>
{{/hasFacility}}
{{/main}}
{{/layout}}
"""#

    static let billing = #"""
{{<layout}}
{{$title}}Billing{{/title}}
{{$main}}
<h1>Billing</h1>
<p>Owed to the clinic: <strong>{{total}}</strong>. Invoices with a balance, oldest due first.</p>
{{#empty}}<p class="hint">Nothing is owed.</p>{{/empty}}
{{^empty}}
<table>
<caption class="hint">Outstanding invoices</caption>
<thead><tr><th scope="col">Invoice</th><th scope="col">Patient</th><th scope="col">Due</th><th scope="col">Balance</th><th scope="col">Age</th></tr></thead>
<tbody>
{{#rows}}<tr><td><a href="/app/billing/invoices/{{id}}">{{number}}</a></td><td><a href="/app/patients/{{patientID}}">{{patientName}}</a></td><td>{{due}}</td><td>{{balance}}</td><td>{{overdue}}</td></tr>
{{/rows}}
</tbody>
</table>
{{/empty}}
{{/main}}
{{/layout}}
"""#

    static let invoice = #"""
{{<layout}}
{{$title}}Invoice {{number}}{{/title}}
{{$main}}
<h1>Invoice {{number}}</h1>
{{#paid}}<p class="notice" role="status">The payment was recorded.</p>{{/paid}}
<p>For <a href="/app/patients/{{patientID}}">{{patientName}}</a>; <span class="status">{{status}}</span>{{#due}}, due {{due}}{{/due}}.
<a href="/app/billing/invoices/{{id}}/pdf">Download the invoice as PDF</a></p>
<table>
<caption class="hint">Lines</caption>
<thead><tr><th scope="col">Description</th><th scope="col">Quantity</th><th scope="col">Unit price</th><th scope="col">Tax</th><th scope="col">Amount</th></tr></thead>
<tbody>
{{#lines}}<tr><td>{{description}}</td><td>{{quantity}}</td><td>{{unit}}</td><td>{{tax}}</td><td>{{total}}</td></tr>
{{/lines}}
</tbody>
</table>
<dl class="totals">
{{#totals}}<dt>{{label}}</dt><dd>{{amount}}</dd>
{{/totals}}
</dl>
{{^empty(entries)}}
<h2>Payments and credits</h2>
<table>
<caption class="hint">Money received, refunded and credited</caption>
<thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Amount</th><th scope="col">Receipt or number</th></tr></thead>
<tbody>
{{#entries}}<tr><td>{{when}}</td><td>{{label}}</td><td>{{amount}}</td><td>{{receipt}}</td></tr>
{{/entries}}
</tbody>
</table>
{{/empty(entries)}}
{{#canPay}}
<h2>Take a payment</h2>
{{>form-errors}}
<form method="post" action="/app/billing/invoices/{{id}}/payments" class="panel" novalidate>
<input type="hidden" name="_csrf" value="{{shell.formToken}}">
<div class="grid">
{{#fields}}{{>field}}{{/fields}}
</div>
<button type="submit">Record the payment</button>
</form>
{{/canPay}}
{{/main}}
{{/layout}}
"""#
}
