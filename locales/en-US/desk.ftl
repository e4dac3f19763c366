# The web console: the desk pages (接线台), the dispatcher's queue (派单) and the public's
# submission page.

action-agent_desk = use the agent desk
action-mailbox_queue = open the mailbox queue

## Kinds and priority
desk-kind-legend = Kind of appeal
desk-kind-complaint = Complaint
desk-kind-help = Request for help
desk-kind-consultation = Consultation
desk-kind-suggestion = Suggestion
desk-kind-report = Report
desk-kind-praise = Praise
desk-priority-normal = Normal
desk-priority-urgent = Urgent

## The appeal form (agent desk and web submission)
desk-field-title = Title
desk-field-title-optional = Title (optional)
desk-title-hint = When left empty, the first line of the text (at most 30 characters).
desk-field-body = What the appeal is about
desk-field-kind = Kind of appeal
desk-field-address = Place
desk-field-address-optional = Where (optional)
desk-appellant-legend = Appellant
desk-appellant-person = Person
desk-appellant-enterprise = Enterprise
desk-field-name = Name of the person or enterprise
desk-field-phone = Phone number
desk-field-uscc = Unified social credit code
desk-field-uscc-enterprise = Unified social credit code (enterprises)
desk-field-answer = Answer given on the phone

## Agent desk
desk-title = Log a call
desk-lookup = Caller lookup
desk-lookup-number = Caller's phone number or unified social credit code
desk-lookup-submit = Show earlier appeals
desk-history = Earlier appeals of this caller: { $count }
desk-history-empty = No earlier appeals from this number.
desk-col-received = Received
desk-col-unit = Responsible unit
desk-log = New ticket
desk-urgent = Urgent (to be solved within 12 hours)
desk-answer-legend = Answered on the spot (consultations)
desk-answer-hint = If you answered the consultation on the phone, write the answer: the ticket is closed at once and not dispatched.
desk-log-submit = Log the ticket
desk-preview = Routing suggestions
desk-preview-waiting = Once the text is typed, the suggested unit and probable duplicates show here.
desk-preview-auto = Will be dispatched to { $unit } automatically ({ $matter }, { $percent } sure).
desk-preview-manual = Probably { $unit } ({ $matter }, { $percent } sure); a dispatcher confirms it after logging.
desk-preview-unplaced = No unit is likely enough; a dispatcher places it after logging.
desk-preview-confidential-route = About an official's conduct: it goes to the discipline office as a confidential appeal.
desk-preview-confidential = Confidential: nothing of the appellant or the text may reach the unit complained about.
desk-preview-urgent = Urgency signals ({ $signals }): it will be handled as urgent.
desk-preview-suggestions = Suggested service matters
desk-preview-duplicates = Probable duplicates
desk-preview-offline = Suggestions are not available right now; logging still works.
desk-why-same_appellant = same caller
desk-why-similar_text = similar text
desk-why-same_place = same place and matter
desk-mine = Calls I logged
desk-mine-empty = You have not logged any calls yet.
desk-done-logged = Ticket logged: number { $ticket }. Please tell the caller the ticket number.
desk-done-answered = Ticket { $ticket } logged, answered on the spot and closed.
desk-done-closed = Ticket { $ticket } answered on the spot and closed.
desk-close = Answered on the spot: close it
desk-close-submit = Record the answer and close
desk-next-call = Log the next call
desk-full-case = Open the full case

## Dispatch queue
queue-title = Dispatch queue
queue-mailbox-title = Mailbox queue (confidential)
queue-count = { $count } waiting to be dispatched
queue-empty = Nothing is waiting to be dispatched.
queue-col-waiting = Waiting
queue-col-suggestions = Suggestions
queue-col-action = Action
queue-waited = waiting { $minutes } min
queue-dispatch-due = dispatch by
queue-no-suggestions = no suggestion
queue-duplicate = Probable duplicate of
queue-quick-dispatch = Dispatch to { $unit }
queue-quick-reassign = Reassign to { $unit }
queue-quick-label = Ticket { $ticket }: dispatch as first suggested to
queue-open = Open
queue-pages = Pages
queue-prev = Previous
queue-next = Next
queue-page = Page { $page } of { $pages }
queue-back = Back to the queue
queue-dispatch = Dispatch
queue-reassign = Reassign
queue-unit = Responsible unit
queue-choose-unit = Choose a unit
queue-matter = Service matter (optional)
queue-no-matter = No matter named
queue-matter-hint = Only the chosen unit's matters are offered; naming one helps the router learn.
queue-merge = Merge as a duplicate
queue-merge-into = Merge into ticket { $ticket }: this one is no longer handled on its own.
queue-void = Void (say why)
queue-void-submit = Void
queue-done-dispatched = Ticket { $ticket } dispatched.
queue-done-reassigned = Ticket { $ticket } reassigned.
queue-done-merged = Ticket { $ticket } merged.
queue-done-voided = Ticket { $ticket } voided.

## Web submission
submit-title = Submit an appeal
submit-intro = Say what it is about, where, and how to reach you. You get a ticket number and a code to follow its progress.
submit-privacy = Your name and contact details are used for this appeal only and hidden from anyone not handling it.
submit-submit = Submit
submit-done-title = Appeal submitted
submit-done-intro = We have received your appeal and will pass it to the responsible unit shortly.
submit-done-code = Code to follow it
submit-done-keep = Keep the ticket number and the code: with them you can follow the progress, add material and rate the result.
submit-done-follow = Follow the progress
