/// The clinic's daily pages: today, patients, the chart, booking.
enum ClinicalTemplates {
    static let all: [String: String] = [
        "today": today, "patients": patients, "patient-new": patientNew,
        "patient": patient, "appointment-new": appointmentNew, "calendar": calendar, "reports": reports,
        "prescribe": prescribe, "prescription": prescription,
    ]

    static let prescribe = #"""
{{<layout}}
{{$title}}Prescribe{{/title}}
{{$main}}
<h1>Prescribe for {{patientName}}</h1>
<form method="get" action="/app/patients/{{patientID}}/prescribe" class="panel search" role="search" aria-label="Search the formulary">
<div>
<label for="formulary-q">Search the formulary</label>
<input id="formulary-q" name="q" type="search" value="{{query}}" maxlength="100" aria-describedby="formulary-hint">
<p class="hint" id="formulary-hint">A name (misspelt by a letter is fine) or a code; the medication lists below then offer the matches first.</p>
</div>
<button type="submit">Search</button>
</form>
{{>form-errors}}
<form method="post" action="/app/patients/{{patientID}}/prescriptions" novalidate>
<input type="hidden" name="_csrf" value="{{shell.formToken}}">
{{#items}}
<fieldset class="panel">
<legend>Medication {{number}}{{^first}} (optional){{/first}}</legend>
<div class="grid">
{{#fields}}{{>field}}{{/fields}}
</div>
</fieldset>
{{/items}}
<button type="submit">Issue prescription</button>
</form>
{{/main}}
{{/layout}}
"""#

    static let prescription = #"""
{{<layout}}
{{$title}}Prescription{{/title}}
{{$main}}
<article class="panel prescription" aria-labelledby="rx-heading">
<h1 id="rx-heading">Prescription</h1>
<p class="clinic-name">{{clinic}}</p>
<dl class="details">
<dt>Patient</dt><dd>{{patientName}}, born {{birthDate}} (MRN {{mrn}})</dd>
<dt>Prescriber</dt><dd>{{prescriber}}{{#licence}}, licence {{licence}}{{/licence}}</dd>
<dt>Issued</dt><dd>{{issued}}</dd>
<dt>Status</dt><dd>{{status}}</dd>
<dt>Reference</dt><dd>{{reference}}</dd>
</dl>
<table>
<thead><tr><th scope="col">Medication</th><th scope="col">Dose</th><th scope="col">Route</th><th scope="col">Frequency</th><th scope="col">Days</th><th scope="col">Quantity</th><th scope="col">Instructions</th></tr></thead>
<tbody>
{{#items}}<tr><td>{{medication}}</td><td>{{dose}}</td><td>{{route}}</td><td>{{frequency}}</td><td>{{days}}</td><td>{{quantity}}</td><td>{{instructions}}</td></tr>
{{/items}}
</tbody>
</table>
<p class="signature">Signature: ______________________________</p>
</article>
<p class="no-print"><button type="button" data-print>Print</button> <a href="/app/patients/{{patientID}}/prescriptions/{{id}}/pdf">Download as PDF</a>
<a href="/app/patients/{{patientID}}">Back to the chart</a></p>
{{/main}}
{{/layout}}
"""#

    static let calendar = #"""
{{<layout}}
{{$title}}Calendar{{/title}}
{{$main}}
<h1>Calendar</h1>
{{>form-errors}}
<form method="get" action="/app/calendar" class="panel" aria-label="Choose the calendar">
<div class="grid">
{{#fields}}{{>field}}{{/fields}}
</div>
<button type="submit">Show</button>
</form>
<p class="no-print"><a href="/app/calendar?{{previous}}">Previous {{unit}}</a> · <a href="/app/calendar?{{next}}">Next {{unit}}</a></p>
{{#days}}
<section aria-labelledby="day-{{key}}">
<h2 id="day-{{key}}">{{label}}</h2>
{{^empty(appointments)}}
<table>
<thead><tr><th scope="col">Time</th><th scope="col">Patient</th><th scope="col">Status</th><th scope="col">Reason</th>{{#canWrite}}<th scope="col">Change status</th>{{/canWrite}}</tr></thead>
<tbody>
{{/empty(appointments)}}
{{#appointments}}<tr><td>{{time}}</td><td><a href="/app/patients/{{patientID}}">{{patientName}}</a></td><td><span class="status">{{status}}</span></td><td>{{reason}}</td>
{{#canWrite}}<td>{{#changes}}<form method="post" action="/app/appointments/{{id}}/status" class="inline">
<input type="hidden" name="_csrf" value="{{shell.formToken}}"><input type="hidden" name="version" value="{{version}}"><input type="hidden" name="status" value="{{to}}">
<input type="hidden" name="back" value="{{back}}"><button type="submit" class="secondary">{{label}}</button></form>
{{/changes}}</td>{{/canWrite}}</tr>
{{/appointments}}
{{^empty(appointments)}}
</tbody>
</table>
{{/empty(appointments)}}
{{#empty(appointments)}}<p>No appointments.</p>{{/empty(appointments)}}
</section>
{{/days}}
{{/main}}
{{/layout}}
"""#

    static let reports = #"""
{{<layout}}
{{$title}}Daily report{{/title}}
{{$main}}
<h1>Daily report, {{dayLabel}}</h1>
<form method="get" action="/app/reports" class="panel search" aria-label="Choose the day">
<div>{{#fields}}{{>field}}{{/fields}}</div>
<button type="submit">Show</button>
</form>
<p>{{origin}} <a href="/app/reports/pdf?day={{day}}">Download the report as PDF</a></p>
<table>
<caption class="hint">The day in numbers ({{timeZone}})</caption>
<thead><tr><th scope="col">Measure</th><th scope="col">Count</th><th scope="col">Compared</th></tr></thead>
<tbody>
{{#rows}}<tr><th scope="row">{{label}}</th><td>{{count}}</td><td><meter min="0" max="{{max}}" value="{{count}}" aria-label="{{label}}: {{count}}">{{count}}</meter></td></tr>
{{/rows}}
</tbody>
</table>
{{/main}}
{{/layout}}
"""#

    static let today = #"""
{{<layout}}
{{$title}}Today{{/title}}
{{$main}}
<h1>Today, {{dayLabel}}</h1>
{{#showsAppointments}}
<h2>{{listHeading}}</h2>
<ul class="counts" aria-label="Appointments by status">
{{#counts}}<li><strong>{{count}}</strong> {{label}}</li>
{{/counts}}
</ul>
{{^empty(appointments)}}
<table>
<caption class="hint">{{listHeading}}, in time order</caption>
<thead><tr><th scope="col">Time</th><th scope="col">Patient</th><th scope="col">Practitioner</th><th scope="col">Status</th><th scope="col">Reason</th></tr></thead>
<tbody>
{{/empty(appointments)}}
{{#appointments}}<tr><td>{{time}}</td><td><a href="/app/patients/{{patientID}}">{{patientName}}</a></td><td>{{practitioner}}</td><td><span class="status">{{status}}</span></td><td>{{reason}}</td></tr>
{{/appointments}}
{{^empty(appointments)}}
</tbody>
</table>
{{/empty(appointments)}}
{{^appointments}}<p>No appointments today.</p>{{/appointments}}
{{/showsAppointments}}
{{^showsAppointments}}
<p>Your role does not include appointments. Use the menu above for the pages you can open.</p>
{{/showsAppointments}}
{{/main}}
{{/layout}}
"""#

    static let patients = #"""
{{<layout}}
{{$title}}Patients{{/title}}
{{$main}}
<h1>Patients</h1>
{{#canRegister}}<p><a class="button secondary" href="/app/patients/new">Register a patient</a></p>{{/canRegister}}
<form method="get" action="/app/patients" class="search" role="search" data-live-search="patient-results">
<div>
<label for="q">Search by name, MRN, phone, email or birth date</label>
<input id="q" name="q" type="search" value="{{query}}" maxlength="100" aria-describedby="q-hint">
<p class="hint" id="q-hint">Names may be misspelled by a letter; birth dates as YYYY-MM-DD.</p>
</div>
<button type="submit">Search</button>
</form>
<div id="patient-results" aria-live="polite">
{{{resultsHTML}}}
</div>
{{/main}}
{{/layout}}
"""#

    static let patientNew = #"""
{{<layout}}
{{$title}}Register a patient{{/title}}
{{$main}}
<h1>Register a patient</h1>
{{>form-errors}}
<form method="post" action="/app/patients" class="panel" novalidate>
<input type="hidden" name="_csrf" value="{{shell.formToken}}">
<div class="grid">
{{#fields}}{{>field}}{{/fields}}
</div>
<button type="submit">Register</button>
</form>
{{/main}}
{{/layout}}
"""#

    static let patient = #"""
{{<layout}}
{{$title}}{{name}}{{/title}}
{{$main}}
<h1>{{name}}</h1>
{{>form-errors}}
<section class="panel" aria-labelledby="details-heading">
<h2 id="details-heading">Details</h2>
<dl class="details">
<dt>MRN</dt><dd>{{mrn}}</dd>
<dt>Birth date</dt><dd>{{birthDate}}</dd>
<dt>Sex</dt><dd>{{sex}}</dd>
<dt>Phone</dt><dd>{{phone}}</dd>
<dt>Email</dt><dd>{{email}}</dd>
<dt>Address</dt><dd>{{address}}</dd>
<dt>Status</dt><dd>{{status}}</dd>
<dt>Version</dt><dd>{{version}}</dd>
</dl>
</section>
{{#canEdit}}
<section class="panel no-print" aria-labelledby="edit-heading">
<h2 id="edit-heading">Edit details</h2>
<form method="post" action="/app/patients/{{id}}" novalidate>
<input type="hidden" name="_csrf" value="{{shell.formToken}}">
<input type="hidden" name="version" value="{{editVersion}}">
{{#originals}}<input type="hidden" name="{{name}}" value="{{value}}">
{{/originals}}
<div class="grid">
{{#fields}}{{>field}}{{/fields}}
</div>
<button type="submit">Save changes</button>
</form>
</section>
{{/canEdit}}
{{#canBook}}<p class="no-print"><a class="button secondary" href="/app/appointments/new?patient_id={{id}}">Book an appointment</a></p>{{/canBook}}
{{#showsAppointments}}
<section aria-labelledby="appointments-heading">
<h2 id="appointments-heading">Appointments</h2>
{{^empty(appointments)}}
<table>
<thead><tr><th scope="col">When</th><th scope="col">Practitioner</th><th scope="col">Status</th><th scope="col">Reason</th></tr></thead>
<tbody>
{{/empty(appointments)}}
{{#appointments}}<tr><td>{{time}}</td><td>{{practitioner}}</td><td><span class="status">{{status}}</span></td><td>{{reason}}</td></tr>
{{/appointments}}
{{^empty(appointments)}}
</tbody>
</table>
{{/empty(appointments)}}
{{^appointments}}<p>No appointments.</p>{{/appointments}}
</section>
{{/showsAppointments}}
{{#showsPrescriptions}}
<section aria-labelledby="prescriptions-heading">
<h2 id="prescriptions-heading">Prescriptions</h2>
{{#canPrescribe}}<p class="no-print"><a class="button secondary" href="/app/patients/{{id}}/prescribe">Prescribe</a></p>{{/canPrescribe}}
{{^empty(prescriptions)}}
<table>
<thead><tr><th scope="col">Issued</th><th scope="col">Items</th><th scope="col">Status</th></tr></thead>
<tbody>
{{/empty(prescriptions)}}
{{#prescriptions}}<tr><td><a href="/app/patients/{{patientID}}/prescriptions/{{id}}">{{issued}}</a></td><td>{{items}}</td><td><span class="status">{{status}}</span></td></tr>
{{/prescriptions}}
{{^empty(prescriptions)}}
</tbody>
</table>
{{/empty(prescriptions)}}
{{^prescriptions}}<p>No prescriptions.</p>{{/prescriptions}}
</section>
{{/showsPrescriptions}}
{{#showsDocuments}}
<section aria-labelledby="documents-heading">
<h2 id="documents-heading">Documents</h2>
{{^empty(documents)}}
<table>
<thead><tr><th scope="col">Title</th><th scope="col">Category</th><th scope="col">Dated</th><th scope="col">File</th><th scope="col">Filed by</th></tr></thead>
<tbody>
{{/empty(documents)}}
{{#documents}}<tr><td><a href="{{href}}">{{title}}</a></td><td>{{category}}</td><td>{{date}}</td><td>{{type}}, {{size}}</td><td>{{author}}</td></tr>
{{/documents}}
{{^empty(documents)}}
</tbody>
</table>
{{/empty(documents)}}
{{^documents}}<p>No documents.</p>{{/documents}}
{{#canFile}}
<form class="panel no-print" method="post" action="/app/patients/{{id}}/documents" enctype="multipart/form-data">
<input type="hidden" name="_csrf" value="{{shell.formToken}}">
<h3>File a document</h3>
<div class="grid">
<p><label for="document-title">Title</label><input id="document-title" name="title" required maxlength="200" autocomplete="off"></p>
<p><label for="document-category">Category</label><select id="document-category" name="category" required>
{{#categories}}<option value="{{value}}">{{label}}</option>
{{/categories}}</select></p>
<p><label for="document-date">Date on the document</label><input id="document-date" name="document_date" type="date"></p>
<p><label for="document-file">File (PDF, PNG, JPEG, TIFF, DICOM or text)</label><input id="document-file" name="file" type="file" required
 accept=".pdf,.png,.jpg,.jpeg,.tif,.tiff,.dcm,.txt,application/pdf,image/png,image/jpeg,image/tiff,application/dicom,text/plain"></p>
</div>
<button type="submit">File document</button>
</form>
{{/canFile}}
</section>
{{/showsDocuments}}
{{#showsAccessLog}}
<section aria-labelledby="access-heading">
<h2 id="access-heading">Access log</h2>
{{^empty(accessLog)}}
<table>
<thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Outcome</th></tr></thead>
<tbody>
{{/empty(accessLog)}}
{{#accessLog}}<tr><td>{{time}}</td><td>{{actor}}</td><td>{{action}}</td><td>{{outcome}}</td></tr>
{{/accessLog}}
{{^empty(accessLog)}}
</tbody>
</table>
{{/empty(accessLog)}}
</section>
{{/showsAccessLog}}
{{/main}}
{{/layout}}
"""#

    static let appointmentNew = #"""
{{<layout}}
{{$title}}Book an appointment{{/title}}
{{$main}}
<h1>Book an appointment</h1>
<p>For <a href="/app/patients/{{patientID}}">{{patientName}}</a>. Times are the clinic's ({{timeZone}}).</p>
{{>form-errors}}
<form method="post" action="/app/appointments" class="panel" novalidate>
<input type="hidden" name="_csrf" value="{{shell.formToken}}">
<input type="hidden" name="patient_id" value="{{patientID}}">
<div class="grid">
{{#fields}}{{>field}}{{/fields}}
</div>
<button type="submit">Book</button>
</form>
{{/main}}
{{/layout}}
"""#
}
