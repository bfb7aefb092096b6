function lodashRequestSync(user, context, callback) {
  const _ = require('lodash');
  const request = require('request');
  const changes = _.omitBy({ email: user.email, name: user.name, plan: _.get(user, 'app_metadata.plan') }, _.isNil);
  request.put({ url: configuration.CRM_URL + '/people/' + encodeURIComponent(user.user_id), json: changes }, (err, response) => {
    if (err) return callback(err);
    context.accessToken['https://example.com/synced'] = response.statusCode === 200;
    callback(null, user, context);
  });
}
